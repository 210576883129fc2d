/**
 * One function: charts over a chosen window (GET …/stats/buckets), versions with one-click
 * rollback, schedules with their next runs, configuration and limits, secret names.
 */
import { useMemo, useState } from 'preact/hooks';
import type { Session } from '../session.ts';
import { Chart, type ChartSeries } from '../chart.tsx';
import { formatAgo, formatTime, WINDOWS } from '../format.ts';
import { href } from '../route.ts';
import { useSession } from '../session.ts';
import type { Bucket, FunctionInfo, Schedule, Versions } from '../types.ts';
import { ActionButton, ErrorBox, Section, useLoad } from '../widgets.tsx';

/** The function page. */
export function FunctionPage({ name }: { name: string }) {
  const session = useSession();
  const { api } = session;
  const info = useLoad(() => api.get<FunctionInfo>(`/functions/${encodeURIComponent(name)}`), [api, name]);
  const versions = useLoad(
    () => api.get<Versions>(`/functions/${encodeURIComponent(name)}/versions`),
    [api, name],
  );
  const reloadAll = () => {
    info.reload();
    versions.reload();
  };
  const fn = info.data;
  return (
    <div class="page" data-view="function">
      <div class="toolbar">
        <h1>
          <a href={href({ page: 'functions' })}>Functions</a> / {name}
        </h1>
        <a class="button" href={href({ page: 'invocations', function: name, status: undefined })}>
          Invocations
        </a>
        <a class="button" href={href({ page: 'logs', name })}>
          Logs
        </a>
        {session.can('deploy') || session.can('invoke') ? (
          <a class="button primary" href={href({ page: 'invoke', name })} data-action="open-invoke">
            Invoke
          </a>
        ) : null}
      </div>
      <ErrorBox error={info.error} />
      {fn ? (
        <p class="facts">
          <span>
            runtime <b>{fn.runtime}</b>
          </span>
          <span>
            active version <b data-field="active-version">v{fn.activeVersion}</b>
          </span>
          <span>
            instances <b>{fn.instances.total}</b> ({fn.instances.busy} busy)
          </span>
          <span>
            access <b>{fn.spec.access ?? 'public'}</b>
          </span>
          <span class="mono">{fn.path}</span>
        </p>
      ) : null}
      <Charts name={name} />
      <div class="columns">
        <VersionsSection name={name} versions={versions} onChange={reloadAll} session={session} />
        <SchedulesSection name={name} />
      </div>
      <div class="columns">
        {fn ? <ConfigSection fn={fn} /> : null}
        {session.can('deploy') ? <SecretsSection name={name} /> : null}
      </div>
    </div>
  );
}

function Charts({ name }: { name: string }) {
  const { api } = useSession();
  const [windowIndex, setWindowIndex] = useState(2);
  const w = WINDOWS[windowIndex] ?? WINDOWS[2];
  const buckets = useLoad(
    () =>
      api.get<{ buckets: Bucket[] }>(`/functions/${encodeURIComponent(name)}/stats/buckets`, {
        since: w?.since,
        step: w?.step,
      }),
    [api, name, windowIndex],
  );
  const b = buckets.data?.buckets;
  const charts = useMemo(() => {
    if (!b) return undefined;
    const x = b.map((k) => k.start);
    const s = (label: string, color: number, values: (number | null)[], bars = false): ChartSeries => ({
      label,
      color,
      values,
      bars,
    });
    const latency = (k: Bucket, v: number) => (k.count ? v : null);
    return {
      x,
      invocations: [
        s(
          'invocations',
          0,
          b.map((k) => k.count),
          true,
        ),
        s(
          'errors',
          1,
          b.map((k) => k.errors),
          true,
        ),
      ],
      latency: [
        s(
          'p50',
          2,
          b.map((k) => latency(k, k.p50)),
        ),
        s(
          'p95',
          3,
          b.map((k) => latency(k, k.p95)),
        ),
      ],
      cold: [
        s(
          'cold starts',
          0,
          b.map((k) => k.coldStarts),
          true,
        ),
      ],
      instances: [
        s(
          'instances (peak)',
          2,
          b.map((k) => k.instances),
        ),
      ],
    };
  }, [b]);
  return (
    <Section
      title="Activity"
      actions={
        <div class="segmented" role="group" aria-label="Window">
          {WINDOWS.map((opt, i) => (
            <button
              type="button"
              key={opt.since}
              class={i === windowIndex ? 'on' : ''}
              onClick={() => setWindowIndex(i)}
            >
              {opt.label}
            </button>
          ))}
          <button type="button" onClick={buckets.reload}>
            Refresh
          </button>
        </div>
      }
    >
      <ErrorBox error={buckets.error} />
      {charts ? (
        <div class="charts" data-charts>
          <Chart title="Invocations and errors" x={charts.x} series={charts.invocations} />
          <Chart title="Latency" x={charts.x} series={charts.latency} unit=" ms" />
          <Chart title="Cold starts" x={charts.x} series={charts.cold} />
          <Chart title="Instances" x={charts.x} series={charts.instances} />
        </div>
      ) : null}
    </Section>
  );
}

function VersionsSection(props: {
  name: string;
  versions: ReturnType<typeof useLoad<Versions>>;
  onChange: () => void;
  session: Session;
}) {
  const { api } = props.session;
  const data = props.versions.data;
  const rollback = async (to: number) => {
    await api.post(`/functions/${encodeURIComponent(props.name)}/rollback`, { to });
    props.onChange();
  };
  return (
    <Section title="Versions">
      <ErrorBox error={props.versions.error} />
      {data ? (
        <table class="grid" data-table="versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>Deployed</th>
              <th>Hash</th>
              <th>Source</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {[...data.versions].reverse().map((v) => (
              <tr key={v.version} data-version={v.version}>
                <td>
                  v{v.version} {v.active ? <span class="badge status-succeeded">active</span> : null}
                </td>
                <td title={formatTime(v.createdAt)}>{formatAgo(v.createdAt, Date.now())}</td>
                <td class="mono">{v.hash.slice(0, 12)}</td>
                <td>
                  {v.source
                    ? `${v.source.kind}${v.source.commit ? ` ${v.source.commit.slice(0, 10)}` : ''}`
                    : '–'}
                </td>
                <td>
                  {!v.active && props.session.can('deploy') ? (
                    <ActionButton
                      label={v.version < data.activeVersion ? 'Roll back to this' : 'Activate'}
                      action={() => rollback(v.version)}
                      testId={`rollback-${v.version}`}
                    />
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}

function SchedulesSection({ name }: { name: string }) {
  const { api } = useSession();
  const schedules = useLoad(
    () => api.get<{ schedules: Schedule[] }>(`/functions/${encodeURIComponent(name)}/schedules`),
    [api, name],
  );
  const list = schedules.data?.schedules ?? [];
  return (
    <Section title="Schedules">
      <ErrorBox error={schedules.error} />
      {schedules.data && !list.length ? <p class="muted">No schedule.</p> : null}
      {list.length ? (
        <table class="grid" data-table="schedules">
          <thead>
            <tr>
              <th>Cron</th>
              <th>Zone</th>
              <th>Overlap</th>
              <th>Next runs</th>
              <th>From</th>
            </tr>
          </thead>
          <tbody>
            {list.map((s) => (
              <tr key={s.id}>
                <td class="mono">{s.cron}</td>
                <td>{s.tz}</td>
                <td>{s.overlap}</td>
                <td>
                  {s.next.map((t) => (
                    <div key={t}>{formatTime(t)}</div>
                  ))}
                </td>
                <td>{s.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}

/** Limits and settings worth seeing, from the active version's spec. */
const SPEC_FIELDS = [
  'memory',
  'timeout',
  'cpu',
  'concurrency',
  'instances',
  'queue',
  'maxProcesses',
  'tmpSize',
  'network',
  'access',
  'rateLimit',
  'retries',
  'async',
  'history',
  'handler',
  'style',
  'plugins',
];

function ConfigSection({ fn }: { fn: FunctionInfo }) {
  const rows = SPEC_FIELDS.filter((k) => fn.spec[k] !== undefined).map((k) => [k, show(fn.spec[k])]);
  const env = Object.keys(fn.spec.env ?? {});
  return (
    <Section title="Configuration and limits">
      <table class="grid kv" data-table="config">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td class="mono">{v}</td>
            </tr>
          ))}
          <tr>
            <th>env</th>
            <td class="mono">{env.length ? env.join(', ') : '–'}</td>
          </tr>
        </tbody>
      </table>
    </Section>
  );
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function SecretsSection({ name }: { name: string }) {
  const { api } = useSession();
  const secrets = useLoad(
    () =>
      api.get<{ secrets: { name: string; updatedAt: number }[] }>(
        `/functions/${encodeURIComponent(name)}/secrets`,
      ),
    [api, name],
  );
  const list = secrets.data?.secrets ?? [];
  return (
    <Section title="Secrets">
      <ErrorBox error={secrets.error} />
      {secrets.data && !list.length ? <p class="muted">No secret. kumo secrets set {name} KEY</p> : null}
      {list.length ? (
        <table class="grid" data-table="secrets">
          <tbody>
            {list.map((s) => (
              <tr key={s.name}>
                <td class="mono">{s.name}</td>
                <td class="muted">set {formatAgo(s.updatedAt, Date.now())}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}
