/** API keys on the server's SQLite database: id, name, scopes and the sha256 of the key, never the key. */
import type { ApiKeyRecord } from '../../core/index.ts';
import type { KeyStore } from '../access.ts';
import { toKey, type Row } from '../rows.ts';
import { SqliteStatements } from './statements.ts';

/** SQLite KeyStore. */
export class SqliteKeyStore extends SqliteStatements implements KeyStore {
  async insertKey(k: ApiKeyRecord): Promise<void> {
    this.prepare(
      `INSERT INTO api_keys (id, name, scopes, hash, created_at, created_by, last_used_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(k.id, k.name, k.scopes.join(','), k.hash, k.createdAt, k.createdBy, k.lastUsedAt, k.revokedAt);
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as Row | undefined;
    return row ? toKey(row) : undefined;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (this.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as Row[]).map(toKey);
  }

  async countKeys(): Promise<number> {
    const row = this.prepare('SELECT COUNT(*) AS n FROM api_keys').get() as Row | undefined;
    return Number(row?.n ?? 0);
  }

  async revokeKey(id: string, at: number): Promise<boolean> {
    const r = this.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(
      at,
      id,
    );
    return Number(r.changes) > 0;
  }

  async touchKey(id: string, at: number): Promise<void> {
    this.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(at, id);
  }
}
