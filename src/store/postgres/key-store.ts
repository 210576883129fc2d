/** API keys on PostgreSQL: id, name, scopes and the sha256 of the key, never the key. */
import type { ApiKeyRecord } from '../../core/index.ts';
import type { KeyStore } from '../access.ts';
import { toKey, type Row } from '../rows.ts';
import type { PgSql } from './database.ts';

/** PostgreSQL KeyStore. */
export class PgKeyStore implements KeyStore {
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async insertKey(k: ApiKeyRecord): Promise<void> {
    await this
      .sql`INSERT INTO api_keys (id, name, scopes, hash, created_at, created_by, last_used_at, revoked_at)
      VALUES (${k.id}, ${k.name}, ${k.scopes.join(',')}, ${k.hash}, ${k.createdAt}, ${k.createdBy}, ${k.lastUsedAt}, ${k.revokedAt})`;
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.sql<Row[]>`SELECT * FROM api_keys WHERE id = ${id}`;
    return row ? toKey(row) : undefined;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (await this.sql<Row[]>`SELECT * FROM api_keys ORDER BY created_at, id`).map(toKey);
  }

  async countKeys(): Promise<number> {
    const [row] = await this.sql<Row[]>`SELECT COUNT(*) AS n FROM api_keys`;
    return Number(row?.n ?? 0);
  }

  async revokeKey(id: string, at: number): Promise<boolean> {
    return (
      (await this.sql`UPDATE api_keys SET revoked_at = ${at} WHERE id = ${id} AND revoked_at IS NULL`).count >
      0
    );
  }

  async touchKey(id: string, at: number): Promise<void> {
    await this.sql`UPDATE api_keys SET last_used_at = ${at} WHERE id = ${id}`;
  }
}
