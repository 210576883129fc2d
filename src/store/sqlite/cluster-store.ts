/**
 * ClusterStore on SQLite: the same tables as on PostgreSQL, used by one process. There is no
 * other node to wake, so `listen` never calls back; leases still work (they are trivially won), so the code above them is the same on both backends.
 */
import type { BuildBlob, ClusterChange, ClusterStore } from '../cluster.ts';
import type { Row } from '../rows.ts';
import { SqliteStatements } from './statements.ts';

/** SQLite cluster tables (one node). */
export class SqliteClusterStore extends SqliteStatements implements ClusterStore {
  readonly shared = false;

  async announce(fn: string, now: number): Promise<number> {
    const row = this.prepare('INSERT INTO cluster_changes (function, at) VALUES (?, ?) RETURNING seq').get(
      fn,
      now,
    ) as Row;
    return Number(row.seq);
  }

  async changesSince(seq: number, limit: number): Promise<ClusterChange[]> {
    const rows = this.prepare(
      'SELECT seq, function FROM cluster_changes WHERE seq > ? ORDER BY seq LIMIT ?',
    ).all(seq, limit) as Row[];
    return rows.map((r) => ({ seq: Number(r.seq), function: String(r.function) }));
  }

  async lastChange(): Promise<number> {
    const row = this.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM cluster_changes').get() as Row;
    return Number(row.s);
  }

  async pruneChanges(before: number): Promise<void> {
    this.prepare(
      'DELETE FROM cluster_changes WHERE at < ? AND seq < (SELECT MAX(seq) FROM cluster_changes)',
    ).run(before);
  }

  async listen(): Promise<() => Promise<void>> {
    return async () => {};
  }

  async putBuild(hash: string, build: BuildBlob, now: number): Promise<void> {
    this.prepare(
      'INSERT OR IGNORE INTO cluster_builds (hash, sha256, size, blob, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(hash, build.sha256, build.blob.length, build.blob, now);
  }

  async touchBuild(hash: string, now: number): Promise<boolean> {
    const res = this.prepare('UPDATE cluster_builds SET created_at = MAX(created_at, ?) WHERE hash = ?').run(
      now,
      hash,
    );
    return Number(res.changes) > 0;
  }

  async hasBuild(hash: string): Promise<boolean> {
    return this.prepare('SELECT 1 FROM cluster_builds WHERE hash = ?').get(hash) !== undefined;
  }

  async getBuild(hash: string): Promise<BuildBlob | undefined> {
    const row = this.prepare('SELECT sha256, blob FROM cluster_builds WHERE hash = ?').get(hash) as
      Row | undefined;
    return row ? { sha256: String(row.sha256), blob: Buffer.from(row.blob as Uint8Array) } : undefined;
  }

  async deleteUnusedBuilds(before: number, limit: number): Promise<string[]> {
    const rows = this.prepare(
      `DELETE FROM cluster_builds WHERE hash IN (SELECT b.hash FROM cluster_builds b
         WHERE b.created_at < ? AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.hash = b.hash)
         ORDER BY b.created_at, b.hash LIMIT ?)
       RETURNING hash`,
    ).all(before, limit) as Row[];
    return rows.map((r) => String(r.hash));
  }

  async tryLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const row = this.prepare(
      `INSERT INTO cluster_leases (name, owner, until) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
         WHERE cluster_leases.owner = excluded.owner OR cluster_leases.until < ?
       RETURNING owner`,
    ).get(name, owner, now + ttlMs, now) as Row | undefined;
    return row !== undefined && String(row.owner) === owner;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.prepare('DELETE FROM cluster_leases WHERE name = ? AND owner = ?').run(name, owner);
  }

  async ping(): Promise<void> {
    this.prepare('SELECT 1').get();
  }
}
