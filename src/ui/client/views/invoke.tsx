/** The invoke console: method, path, headers and body in; status, headers, body and time out. */
import { useState } from 'preact/hooks';
import type { InvokeResult } from '../api.ts';
import { formatBytes, formatMs, parseHeaderLines } from '../format.ts';
import { href } from '../route.ts';
import { useSession } from '../session.ts';
import type { FunctionInfo } from '../types.ts';
import { ErrorBox, useLoad } from '../widgets.tsx';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
/** Response text shown at most (the rest is counted, not drawn). */
const SHOWN = 512 * 1024;

/** The invoke page. */
export function InvokeView({ name }: { name: string }) {
  const { api } = useSession();
  const info = useLoad(() => api.get<FunctionInfo>(`/functions/${encodeURIComponent(name)}`), [api, name]);
  const [method, setMethod] = useState('POST');
  const [path, setPath] = useState('/');
  const [headers, setHeaders] = useState('content-type: application/json');
  const [body, setBody] = useState('{}');
  const [result, setResult] = useState<InvokeResult | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const send = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const list = parseHeaderLines(headers);
      setResult(
        await api.invoke(name, { method, path, headers: list, body }, info.data?.spec.access === 'private'),
      );
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  const id = result?.headers.find(([k]) => k === 'x-kumo-invocation-id')?.[1];
  return (
    <div class="page" data-view="invoke">
      <div class="toolbar">
        <h1>
          <a href={href({ page: 'function', name })}>{name}</a> / invoke
        </h1>
      </div>
      <form class="invoke" onSubmit={(e) => void send(e)}>
        <div class="row">
          <select value={method} onChange={(e) => setMethod(e.currentTarget.value)} aria-label="Method">
            {METHODS.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
          <span class="mono muted">/fn/{name}</span>
          <input
            class="grow mono"
            value={path}
            onInput={(e) => setPath(e.currentTarget.value)}
            aria-label="Path and query"
          />
          <button type="submit" class="primary" disabled={busy} data-action="send">
            {busy ? 'Sending…' : 'Send'}
          </button>
        </div>
        <label>
          Headers (one "name: value" a line)
          <textarea
            class="mono"
            rows={3}
            value={headers}
            onInput={(e) => setHeaders(e.currentTarget.value)}
          />
        </label>
        <label>
          Body
          <textarea
            class="mono"
            rows={6}
            value={body}
            onInput={(e) => setBody(e.currentTarget.value)}
            aria-label="Body"
          />
        </label>
      </form>
      <ErrorBox error={error} />
      {result ? (
        <section class="card" data-field="invoke-result">
          <p class="facts">
            <span>
              status <b data-field="invoke-status">{result.status}</b>
            </span>
            <span>{formatMs(result.ms)}</span>
            <span>{formatBytes(new TextEncoder().encode(result.body).length)}</span>
            {id ? <a href={href({ page: 'invocation', id })}>this invocation</a> : null}
          </p>
          <table class="grid kv">
            <tbody>
              {result.headers.map(([k, v]) => (
                <tr key={k}>
                  <th class="mono">{k}</th>
                  <td class="mono">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <pre class="code" data-field="invoke-body">
            {result.body.length > SHOWN ? `${result.body.slice(0, SHOWN)}\n… (cut)` : result.body}
          </pre>
        </section>
      ) : null}
    </div>
  );
}
