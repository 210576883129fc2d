/** A function's logs: live tail (the follow stream of GET …/logs) or a search over a window. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatTime } from '../format.ts';
import { href } from '../route.ts';
import { useSession } from '../session.ts';
import type { LogLine } from '../types.ts';
import { ErrorBox } from '../widgets.tsx';

/** Lines kept on screen while tailing. */
const MAX_LINES = 2000;
const WINDOWS = ['10m', '1h', '6h', '24h', '7d'];

/** The logs page. */
export function LogsView({ name }: { name: string }) {
  const [mode, setMode] = useState<'live' | 'search'>('live');
  return (
    <div class="page" data-view="logs">
      <div class="toolbar">
        <h1>
          <a href={href({ page: 'function', name })}>{name}</a> / logs
        </h1>
        <div class="segmented" role="group" aria-label="Mode">
          <button type="button" class={mode === 'live' ? 'on' : ''} onClick={() => setMode('live')}>
            Live tail
          </button>
          <button type="button" class={mode === 'search' ? 'on' : ''} onClick={() => setMode('search')}>
            Search
          </button>
        </div>
      </div>
      {mode === 'live' ? <LiveTail name={name} /> : <Search name={name} />}
    </div>
  );
}

function LiveTail({ name }: { name: string }) {
  const { api } = useSession();
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [state, setState] = useState<'connecting' | 'live' | 'ended'>('connecting');
  const [paused, setPaused] = useState(false);
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const abort = new AbortController();
    let pending: LogLine[] = [];
    let timer: number | undefined;
    // Lines are added at most once per animation frame: a flood does not re-render per line.
    const flush = () => {
      timer = undefined;
      const add = pending;
      pending = [];
      setLines((old) => [...old, ...add].slice(-MAX_LINES));
    };
    setLines([]);
    setState('connecting');
    api
      .follow<LogLine>(
        `/functions/${encodeURIComponent(name)}/logs`,
        { follow: 1, since: '15m', limit: 200 },
        (line) => {
          pending.push(line);
          timer ??= requestAnimationFrame(flush);
        },
        abort.signal,
        () => setState('live'),
      )
      .then(
        () => setState('ended'),
        (e: unknown) => {
          if (abort.signal.aborted) return;
          setError(e instanceof Error ? e : new Error(String(e)));
          setState('ended');
        },
      );
    return () => {
      abort.abort();
      if (timer !== undefined) cancelAnimationFrame(timer);
    };
  }, [api, name]);
  useEffect(() => {
    const el = pre.current;
    if (el && !paused) el.scrollTop = el.scrollHeight;
  }, [lines, paused]);
  return (
    <>
      <div class="toolbar">
        <span class={`badge ${state === 'live' ? 'status-succeeded' : ''}`} data-field="tail-state">
          {state}
        </span>
        <label class="select">
          <input type="checkbox" checked={paused} onChange={(e) => setPaused(e.currentTarget.checked)} />{' '}
          pause scrolling
        </label>
        <button type="button" onClick={() => setLines([])}>
          Clear
        </button>
      </div>
      <ErrorBox error={error} />
      <pre class="log tall" ref={pre} data-field="live-logs">
        {lines.map((l) => (
          <LogRow key={`${l.time}-${l.invocationId}-${l.line}`} l={l} />
        ))}
      </pre>
    </>
  );
}

function Search({ name }: { name: string }) {
  const { api } = useSession();
  const [q, setQ] = useState('');
  const [since, setSince] = useState('1h');
  const [result, setResult] = useState<LogLine[] | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const run = async (e?: Event) => {
    e?.preventDefault();
    setError(undefined);
    try {
      const r = await api.get<{ lines: LogLine[] }>(`/functions/${encodeURIComponent(name)}/logs`, {
        q,
        since,
        limit: 1000,
      });
      setResult(r.lines);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <>
      <form class="toolbar" onSubmit={(e) => void run(e)}>
        <input
          type="search"
          placeholder="Text the line contains"
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
          aria-label="Search text"
        />
        <label class="select">
          over the last{' '}
          <select value={since} onChange={(e) => setSince(e.currentTarget.value)}>
            {WINDOWS.map((w) => (
              <option key={w} value={w}>
                {w}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary">
          Search
        </button>
        {result ? <span class="muted">{result.length} lines (newest 1000 at most)</span> : null}
      </form>
      <ErrorBox error={error} />
      {result ? (
        <pre class="log tall" data-field="search-logs">
          {result.map((l, i) => (
            <LogRow key={i} l={l} />
          ))}
        </pre>
      ) : null}
    </>
  );
}

/** One log line, as text, linking to its invocation. */
function LogRow({ l }: { l: LogLine }) {
  return (
    <div
      class={`line stream-${l.stream === 'stderr' ? 'stderr' : l.stream === 'system' ? 'system' : 'stdout'}`}
    >
      <span class="muted">{formatTime(l.time, true)} </span>
      {l.invocationId ? (
        <a class="muted" href={href({ page: 'invocation', id: l.invocationId })}>
          {l.invocationId.slice(0, 8)}{' '}
        </a>
      ) : null}
      <span>{l.line}</span>
    </div>
  );
}
