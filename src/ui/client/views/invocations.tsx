/** The invocation history: a paged, filterable table (GET /history). */
import { useState } from 'preact/hooks';
import { formatMs, formatTime } from '../format.ts';
import { href } from '../route.ts';
import { useSession } from '../session.ts';
import type { InvocationSummary } from '../types.ts';
import { ErrorBox, StatusBadge, useLoad } from '../widgets.tsx';

const STATUSES = ['', 'queued', 'running', 'succeeded', 'failed', 'dead'];
const TRIGGERS = ['', 'http', 'async', 'cron'];
const SINCE = ['', '15m', '1h', '24h', '7d'];
const PAGE = 50;

/** The invocations view; `fn` and `status` come from the URL. */
export function InvocationsView(props: { fn: string | undefined; status: string | undefined }) {
  const { api } = useSession();
  const [fn, setFn] = useState(props.fn ?? '');
  const [status, setStatus] = useState(props.status ?? '');
  const [trigger, setTrigger] = useState('');
  const [since, setSince] = useState('');
  // Pages are walked by the creation time of the last row shown: a stack to go back.
  const [pages, setPages] = useState<number[]>([]);
  const before = pages.at(-1);
  const list = useLoad(
    () =>
      api.get<{ invocations: InvocationSummary[] }>('/history', {
        function: fn.trim(),
        status,
        trigger,
        since,
        before,
        limit: PAGE,
      }),
    [api, fn, status, trigger, since, before],
  );
  const rows = list.data?.invocations ?? [];
  const filter = (set: (v: string) => void) => (e: Event) => {
    set((e.currentTarget as HTMLInputElement | HTMLSelectElement).value);
    setPages([]);
  };
  const last = rows.at(-1);
  return (
    <div class="page" data-view="invocations">
      <div class="toolbar">
        <h1>Invocations</h1>
        <input
          type="search"
          placeholder="Function"
          value={fn}
          onChange={filter(setFn)}
          aria-label="Function"
        />
        <Select label="Status" value={status} options={STATUSES} onChange={filter(setStatus)} />
        <Select label="Trigger" value={trigger} options={TRIGGERS} onChange={filter(setTrigger)} />
        <Select label="Since" value={since} options={SINCE} onChange={filter(setSince)} />
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <ErrorBox error={list.error} />
      <table class="grid" data-table="invocations">
        <thead>
          <tr>
            <th>Time</th>
            <th>Function</th>
            <th>Id</th>
            <th>Trigger</th>
            <th>Status</th>
            <th class="num">HTTP</th>
            <th class="num">Duration</th>
            <th class="num">Attempt</th>
            <th>Cold</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} data-invocation={r.id}>
              <td>{formatTime(r.createdAt)}</td>
              <td>
                <a href={href({ page: 'function', name: r.function })}>{r.function}</a>
              </td>
              <td class="mono">
                <a href={href({ page: 'invocation', id: r.id })}>{r.id.slice(0, 13)}</a>
              </td>
              <td>{r.trigger}</td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td class="num">{r.statusCode ?? '–'}</td>
              <td class="num">{formatMs(r.durationMs)}</td>
              <td class="num">
                {r.attempt}/{r.maxAttempts}
              </td>
              <td>{r.cold ? 'cold' : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data && !rows.length ? <p class="muted">No invocation matches.</p> : null}
      <div class="pager">
        <button type="button" disabled={!pages.length} onClick={() => setPages([])}>
          Newest
        </button>
        <button type="button" disabled={!pages.length} onClick={() => setPages((p) => p.slice(0, -1))}>
          Newer
        </button>
        <button
          type="button"
          disabled={rows.length < PAGE || !last}
          onClick={() => last && setPages((p) => [...p, last.createdAt])}
        >
          Older
        </button>
      </div>
    </div>
  );
}

function Select(props: { label: string; value: string; options: string[]; onChange: (e: Event) => void }) {
  return (
    <label class="select">
      {props.label}{' '}
      <select value={props.value} onChange={props.onChange}>
        {props.options.map((o) => (
          <option value={o} key={o}>
            {o || 'any'}
          </option>
        ))}
      </select>
    </label>
  );
}
