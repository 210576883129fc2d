/** Administration (admin keys only): API keys, the audit log, dead letters across functions. */
import { useState } from 'preact/hooks';
import { formatAgo, formatMs, formatTime } from '../format.ts';
import { href } from '../route.ts';
import { useSession } from '../session.ts';
import type { AuditEntry, InvocationSummary, KeyInfo } from '../types.ts';
import { ActionButton, ErrorBox, Section, StatusBadge, useLoad } from '../widgets.tsx';

const SCOPES = ['read', 'deploy', 'invoke', 'admin'];

/** The admin page. */
export function AdminView() {
  return (
    <div class="page" data-view="admin">
      <div class="toolbar">
        <h1>Administration</h1>
      </div>
      <Keys />
      <DeadLetters />
      <Audit />
    </div>
  );
}

function Keys() {
  const { api, caller } = useSession();
  const keys = useLoad(() => api.get<{ keys: KeyInfo[] }>('/keys'), [api]);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['read']);
  const [created, setCreated] = useState<{ id: string; key: string } | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [confirm, setConfirm] = useState<string | undefined>(undefined);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const k = await api.post<KeyInfo & { key: string }>('/keys', { name: name || undefined, scopes });
      setCreated({ id: k.id, key: k.key });
      setName('');
      keys.reload();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const toggle = (s: string) =>
    setScopes((list) => (list.includes(s) ? list.filter((x) => x !== s) : [...list, s]));
  return (
    <Section title="API keys">
      <form class="toolbar" onSubmit={(e) => void create(e)}>
        <input
          placeholder="name (e.g. ci)"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          aria-label="Key name"
        />
        {SCOPES.map((s) => (
          <label class="select" key={s}>
            <input type="checkbox" checked={scopes.includes(s)} onChange={() => toggle(s)} /> {s}
          </label>
        ))}
        <button type="submit" class="primary" data-action="create-key">
          Create key
        </button>
      </form>
      <ErrorBox error={error} />
      {created ? (
        <div class="notice" data-field="new-key">
          <p>
            Key <b>{created.id}</b> — copy it now, it is never shown again:
          </p>
          <pre class="code">{created.key}</pre>
          <button type="button" onClick={() => setCreated(undefined)}>
            Done
          </button>
        </div>
      ) : null}
      <ErrorBox error={keys.error} />
      <table class="grid" data-table="keys">
        <thead>
          <tr>
            <th>Id</th>
            <th>Name</th>
            <th>Scopes</th>
            <th>Created</th>
            <th>Last used</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(keys.data?.keys ?? []).map((k) => (
            <tr key={k.id} data-key={k.id}>
              <td class="mono">{k.id}</td>
              <td>{k.name}</td>
              <td>{k.scopes.join(', ')}</td>
              <td>{formatTime(k.createdAt)}</td>
              <td>{k.lastUsedAt ? formatAgo(k.lastUsedAt, Date.now()) : 'never'}</td>
              <td>{k.revokedAt ? <span class="badge status-dead">revoked</span> : 'active'}</td>
              <td>
                {k.revokedAt || k.id === caller.id ? null : confirm === k.id ? (
                  <>
                    <ActionButton
                      label="Yes, revoke"
                      kind="danger"
                      testId={`revoke-${k.id}`}
                      action={async () => {
                        await api.del(`/keys/${encodeURIComponent(k.id)}`);
                        setConfirm(undefined);
                        keys.reload();
                      }}
                    />
                    <button type="button" onClick={() => setConfirm(undefined)}>
                      Cancel
                    </button>
                  </>
                ) : (
                  <button type="button" onClick={() => setConfirm(k.id)} data-action={`ask-revoke-${k.id}`}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function DeadLetters() {
  const { api } = useSession();
  const dead = useLoad(
    () => api.get<{ invocations: InvocationSummary[] }>('/history', { status: 'dead', limit: 100 }),
    [api],
  );
  const rows = dead.data?.invocations ?? [];
  return (
    <Section
      title="Dead letters"
      actions={
        <a class="button" href={href({ page: 'invocations', function: undefined, status: 'dead' })}>
          All
        </a>
      }
    >
      <ErrorBox error={dead.error} />
      {dead.data && !rows.length ? <p class="muted">No dead invocation.</p> : null}
      {rows.length ? (
        <table class="grid" data-table="dead">
          <thead>
            <tr>
              <th>Time</th>
              <th>Function</th>
              <th>Id</th>
              <th>Attempts</th>
              <th>Last error</th>
              <th />
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
                <td>{r.attempt}</td>
                <td>{r.error ? `${r.error.code}: ${r.error.message}` : `HTTP ${r.statusCode ?? '–'}`}</td>
                <td>
                  <ActionButton
                    label="Redrive"
                    testId={`redrive-${r.id}`}
                    action={async () => {
                      await api.post(`/invocations/${encodeURIComponent(r.id)}/redrive`);
                      dead.reload();
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}

function Audit() {
  const { api } = useSession();
  const [fn, setFn] = useState('');
  const [limit, setLimit] = useState(25);
  const audit = useLoad(
    () => api.get<{ entries: AuditEntry[] }>('/audit', { limit, function: fn.trim() }),
    [api, fn, limit],
  );
  const entries = audit.data?.entries ?? [];
  return (
    <Section
      title="Audit log"
      actions={
        <input
          type="search"
          placeholder="Function"
          value={fn}
          onChange={(e) => setFn(e.currentTarget.value)}
          aria-label="Audit function"
        />
      }
    >
      <ErrorBox error={audit.error} />
      <table class="grid" data-table="audit">
        <thead>
          <tr>
            <th>Time</th>
            <th>Key</th>
            <th>Request</th>
            <th>Scope</th>
            <th class="num">Status</th>
            <th>Outcome</th>
            <th class="num">Took</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((a) => (
            <tr key={a.id}>
              <td>{formatTime(a.time)}</td>
              <td>{a.keyName ? `${a.keyName} (${a.keyId ?? ''})` : (a.keyId ?? '–')}</td>
              <td class="mono">
                {a.method} {a.path}
              </td>
              <td>{a.scope}</td>
              <td class="num">{a.status}</td>
              <td>
                <StatusBadge status={a.outcome === 'ok' ? 'succeeded' : a.outcome} label={a.outcome} />
              </td>
              <td class="num">{formatMs(a.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {entries.length === limit ? (
        <div class="pager">
          <button type="button" onClick={() => setLimit((n) => n * 4)}>
            Show more
          </button>
        </div>
      ) : null}
    </Section>
  );
}
