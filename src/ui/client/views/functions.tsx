/** Every function at a glance (one GET /overview), with search and sort. */
import { useMemo, useState } from 'preact/hooks';
import { filterAndSort, formatCount, formatMs, formatPercent, type SortKey } from '../format.ts';
import { href } from '../route.ts';
import { useSession } from '../session.ts';
import type { Overview } from '../types.ts';
import { ErrorBox, Spark, useLoad } from '../widgets.tsx';

const COLUMNS: { key: SortKey; label: string; numeric: boolean }[] = [
  { key: 'name', label: 'Function', numeric: false },
  { key: 'runtime', label: 'Runtime', numeric: false },
  { key: 'instances', label: 'Instances', numeric: true },
  { key: 'count', label: 'Invocations 24 h', numeric: true },
  { key: 'errorRate', label: 'Errors', numeric: true },
  { key: 'p95', label: 'p95', numeric: true },
  { key: 'coldShare', label: 'Cold', numeric: true },
];

/** The functions view. */
export function FunctionsView() {
  const { api } = useSession();
  const overview = useLoad(() => api.get<Overview>('/overview', { since: '24h', step: '1h' }), [api]);
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'name', desc: false });
  const rows = useMemo(
    () => filterAndSort(overview.data?.functions ?? [], search, sort.key, sort.desc),
    [overview.data, search, sort],
  );
  const sortBy = (key: SortKey, numeric: boolean) =>
    setSort((s) => (s.key === key ? { key, desc: !s.desc } : { key, desc: numeric }));
  return (
    <div class="page" data-view="functions">
      <div class="toolbar">
        <h1>Functions</h1>
        <input
          type="search"
          placeholder="Search by name or runtime"
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
          aria-label="Search functions"
        />
        <span class="muted">
          {overview.data ? `${rows.length} of ${overview.data.functions.length}` : ''}
        </span>
        <button type="button" onClick={overview.reload}>
          Refresh
        </button>
      </div>
      <ErrorBox error={overview.error} />
      {overview.loading && !overview.data ? <p class="muted">Loading…</p> : null}
      {overview.data && overview.data.functions.length === 0 ? (
        <p class="muted">No function is deployed yet: npx kumo deploy ./examples/greet --name greet</p>
      ) : null}
      {rows.length ? (
        <table class="grid" data-table="functions">
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th class={c.numeric ? 'num' : ''} key={c.key}>
                  <button type="button" class="sort" onClick={() => sortBy(c.key, c.numeric)}>
                    {c.label}
                    {sort.key === c.key ? (sort.desc ? ' ▼' : ' ▲') : ''}
                  </button>
                </th>
              ))}
              <th>Version</th>
              <th>Last 24 h</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((f) => (
              <tr key={f.name} data-function={f.name}>
                <td>
                  <a href={href({ page: 'function', name: f.name })}>{f.name}</a>
                  {f.access === 'private' ? <span class="badge">private</span> : null}
                </td>
                <td>{f.runtime ?? '–'}</td>
                <td class="num">
                  {f.instances.total}
                  {f.instances.busy ? <span class="muted"> ({f.instances.busy} busy)</span> : null}
                </td>
                <td class="num">{formatCount(f.count)}</td>
                <td class={`num ${f.errorRate > 0.05 ? 'bad' : ''}`}>{formatPercent(f.errorRate)}</td>
                <td class="num">{f.count ? formatMs(f.p95) : '–'}</td>
                <td class="num">{formatPercent(f.coldShare)}</td>
                <td class="num">v{f.activeVersion}</td>
                <td>
                  <Spark values={f.spark} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
