/**
 * One invocation: request and response (when kept), attempts, callback delivery, its log lines;
 * redrive for failed and dead ones; "copy as curl". Everything the function controls is text.
 */
import { useState } from 'preact/hooks';
import { curlCommand, formatBytes, formatMs, formatTime } from '../format.ts';
import { href } from '../route.ts';
import { useSession } from '../session.ts';
import type { InvocationDetail, RecordedBody } from '../types.ts';
import { ActionButton, ErrorBox, Section, StatusBadge, useLoad } from '../widgets.tsx';

/** The invocation page. */
export function InvocationPage({ id }: { id: string }) {
  const session = useSession();
  const { api } = session;
  const inv = useLoad(() => api.get<InvocationDetail>(`/invocations/${encodeURIComponent(id)}`), [api, id]);
  const [curl, setCurl] = useState<string | undefined>(undefined);
  const d = inv.data;
  const redrivable = d && d.trigger !== 'http' && (d.status === 'failed' || d.status === 'dead');
  const copyCurl = async () => {
    if (!d) return;
    const text = curlCommand({
      method: d.request.method,
      url: `${location.origin}/fn/${d.function}${d.request.path}`,
      headers: d.request.headers,
      body: d.request.body,
      encoding: d.request.encoding,
    });
    setCurl(text);
    await navigator.clipboard?.writeText(text).catch(() => undefined);
  };
  return (
    <div class="page" data-view="invocation">
      <div class="toolbar">
        <h1>
          <a href={href({ page: 'invocations', function: d?.function, status: undefined })}>Invocations</a> /{' '}
          <span class="mono">{id}</span>
        </h1>
        <button type="button" onClick={inv.reload}>
          Refresh
        </button>
        {d ? (
          <button type="button" onClick={() => void copyCurl()} data-action="copy-curl">
            Copy as curl
          </button>
        ) : null}
        {redrivable && session.can('deploy') ? (
          <ActionButton
            label="Redrive"
            kind="primary"
            testId="redrive"
            action={async () => {
              await api.post(`/invocations/${encodeURIComponent(id)}/redrive`);
              inv.reload();
            }}
          />
        ) : null}
      </div>
      <ErrorBox error={inv.error} />
      {curl ? (
        <pre class="code" data-field="curl">
          {curl}
        </pre>
      ) : null}
      {d ? (
        <>
          <p class="facts">
            <span>
              function <a href={href({ page: 'function', name: d.function })}>{d.function}</a>
            </span>
            <span>version {d.version ?? '–'}</span>
            <span>trigger {d.trigger}</span>
            <span>
              <StatusBadge status={d.status} />
            </span>
            <span>HTTP {d.statusCode ?? '–'}</span>
            <span>
              attempt {d.attempt}/{d.maxAttempts}
            </span>
            <span>{formatMs(d.durationMs)}</span>
            <span>{d.cold ? 'cold start' : 'warm'}</span>
            <span>created {formatTime(d.createdAt, true)}</span>
          </p>
          {d.error ? (
            <p class="error">
              {d.error.code}: {d.error.message}
            </p>
          ) : null}
          <div class="columns">
            <Section title={`Request: ${d.request.method} ${d.request.path}`}>
              <Message m={d.request} kept={d.bodies} />
            </Section>
            <Section title={`Response${d.response && d.statusCode ? `: ${d.statusCode}` : ''}`}>
              {d.response ? (
                <Message m={d.response} kept={d.bodies} />
              ) : (
                <p class="muted">No response yet.</p>
              )}
            </Section>
          </div>
          <Section title="Attempts">
            <table class="grid" data-table="attempts">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Started</th>
                  <th>Version</th>
                  <th class="num">HTTP</th>
                  <th>Outcome</th>
                  <th class="num">Duration</th>
                  <th>Error</th>
                </tr>
              </thead>
              <tbody>
                {d.attempts.map((a) => (
                  <tr key={a.attempt}>
                    <td>{a.attempt}</td>
                    <td>{formatTime(a.startedAt, true)}</td>
                    <td>{a.version ?? '–'}</td>
                    <td class="num">{a.statusCode ?? '–'}</td>
                    <td>{a.outcome ?? '–'}</td>
                    <td class="num">{formatMs(a.durationMs)}</td>
                    <td>{a.error ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
          {d.callback ? (
            <Section title="Callback">
              <p class="facts">
                <span class="mono">{d.callback.url}</span>
                <span>
                  <StatusBadge status={d.callback.state} />
                </span>
                <span>{d.callback.attempts} deliveries tried</span>
                {d.callback.lastError ? <span class="error">{d.callback.lastError}</span> : null}
              </p>
            </Section>
          ) : null}
          <Section title="Log lines">
            {d.logs.length ? (
              <pre class="log" data-field="invocation-logs">
                {d.logs.map((l) => `${formatTime(l.time, true)} ${l.stream} ${l.line}\n`).join('')}
              </pre>
            ) : (
              <p class="muted">No log line.</p>
            )}
          </Section>
        </>
      ) : null}
    </div>
  );
}

/** Headers and body of a request or response, as text. */
function Message({ m, kept }: { m: RecordedBody; kept: boolean }) {
  return (
    <>
      <table class="grid kv">
        <tbody>
          {Object.entries(m.headers).map(([k, v]) => (
            <tr key={k}>
              <th class="mono">{k}</th>
              <td class="mono">{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!kept ? (
        <p class="muted">Bodies are not kept for this function (history.bodies: false).</p>
      ) : m.body === null || m.body === '' ? (
        <p class="muted">Empty body.</p>
      ) : (
        <>
          <p class="muted">
            {m.size === null ? '' : formatBytes(m.size)}
            {m.encoding === 'base64' ? ', binary (base64)' : ''}
            {m.truncated ? ', truncated' : ''}
          </p>
          <pre class="code" data-field="body">
            {m.body}
          </pre>
        </>
      )}
    </>
  );
}
