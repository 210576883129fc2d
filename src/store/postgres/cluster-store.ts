/**
 * ClusterStore on PostgreSQL: what the nodes of one database share. Changes are rows of
 * cluster_changes (the feed a follower polls) and a NOTIFY on `kumo_changes` that wakes the
 * followers at once; a lost notification (a dropped listening connection) only costs the poll
 * interval. Leases are rows taken with one upsert that succeeds only when the row is free,
 * expired or already the caller's, so two nodes never both hold one.
 */
import type { BuildBlob, ClusterChange, ClusterStore } from '../cluster.ts';
import type { Row } from '../rows.ts';
import type { PgSql } from './database.ts';

/** The LISTEN/NOTIFY channel of change announcements. */
export const CHANGES_CHANNEL = 'kumo_changes';

/** PostgreSQL cluster tables. */
export class PgClusterStore implements ClusterStore {
  readonly shared = true;
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async announce(fn: string, now: number): Promise<number> {
    // The insert and the notification commit together: a follower woken by it finds the row.
    return this.sql.begin(async (tx) => {
      const [row] = await tx<
        Row[]
      >`INSERT INTO cluster_changes (function, at) VALUES (${fn}, ${now}) RETURNING seq`;
      const seq = Number(row?.seq);
      await tx`SELECT pg_notify(${CHANGES_CHANNEL}, ${String(seq)})`;
      return seq;
    });
  }

  async changesSince(seq: number, limit: number): Promise<ClusterChange[]> {
    const rows = await this.sql<Row[]>`SELECT seq, function FROM cluster_changes WHERE seq > ${seq}
      ORDER BY seq LIMIT ${limit}`;
    return rows.map((r) => ({ seq: Number(r.seq), function: String(r.function) }));
  }

  async lastChange(): Promise<number> {
    const [row] = await this.sql<Row[]>`SELECT COALESCE(MAX(seq), 0) AS s FROM cluster_changes`;
    return Number(row?.s ?? 0);
  }

  async pruneChanges(before: number): Promise<void> {
    await this.sql`DELETE FROM cluster_changes WHERE at < ${before}
      AND seq < (SELECT MAX(seq) FROM cluster_changes)`;
  }

  async listen(wake: () => void): Promise<() => Promise<void>> {
    // The client keeps one connection for LISTEN and re-listens after it reconnects.
    const sub = await this.sql.listen(CHANGES_CHANNEL, () => wake(), wake);
    return () => sub.unlisten();
  }

  async putBuild(hash: string, build: BuildBlob, now: number): Promise<void> {
    await this.sql`INSERT INTO cluster_builds (hash, sha256, size, blob, created_at)
      VALUES (${hash}, ${build.sha256}, ${build.blob.length}, ${build.blob}, ${now})
      ON CONFLICT (hash) DO NOTHING`;
  }

  async touchBuild(hash: string, now: number): Promise<boolean> {
    // An UPDATE takes the row's lock: it waits for a concurrent delete and then finds no row
    // (false: the caller publishes again), and a delete that comes second re-reads created_at.
    const res = await this.sql`UPDATE cluster_builds SET created_at = GREATEST(created_at, ${now})
      WHERE hash = ${hash}`;
    return res.count > 0;
  }

  async hasBuild(hash: string): Promise<boolean> {
    return (await this.sql`SELECT 1 FROM cluster_builds WHERE hash = ${hash}`).length > 0;
  }

  async getBuild(hash: string): Promise<BuildBlob | undefined> {
    const [row] = await this.sql<Row[]>`SELECT sha256, blob FROM cluster_builds WHERE hash = ${hash}`;
    return row ? { sha256: String(row.sha256), blob: Buffer.from(row.blob as Uint8Array) } : undefined;
  }

  async deleteUnusedBuilds(before: number, limit: number): Promise<string[]> {
    // created_at is tested on the deleted row itself, not only in the subquery: a row that a
    // concurrent touchBuild updated is re-checked on its new version (READ COMMITTED), and spared.
    const rows = await this.sql<Row[]>`DELETE FROM cluster_builds WHERE created_at < ${before}
      AND hash IN (SELECT b.hash FROM cluster_builds b WHERE b.created_at < ${before}
        AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.hash = b.hash)
        ORDER BY b.created_at, b.hash LIMIT ${limit})
      RETURNING hash`;
    return rows.map((r) => String(r.hash));
  }

  async tryLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const rows = await this.sql<Row[]>`INSERT INTO cluster_leases (name, owner, until)
      VALUES (${name}, ${owner}, ${now + ttlMs})
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
        WHERE cluster_leases.owner = excluded.owner OR cluster_leases.until < ${now}
      RETURNING owner`;
    return rows.length === 1 && String(rows[0]?.owner) === owner;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.sql`DELETE FROM cluster_leases WHERE name = ${name} AND owner = ${owner}`;
  }

  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const query = this.sql`SELECT 1`;
    try {
      await Promise.race([
        query,
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            query.cancel();
            reject(new Error(`the store did not answer within ${timeoutMs} ms`));
          }, timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
