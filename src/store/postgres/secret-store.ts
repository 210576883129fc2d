/** Function secrets on PostgreSQL, as AES-256-GCM ciphertext only (sealed in auth/ with a key kept outside the database). */
import type { SecretRecord } from '../../core/index.ts';
import type { SecretStore } from '../access.ts';
import { buf, toSecretMeta, type Row } from '../rows.ts';
import type { PgSql } from './database.ts';

/** PostgreSQL SecretStore. */
export class PgSecretStore implements SecretStore {
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async putSecret(s: SecretRecord): Promise<void> {
    await this.sql`INSERT INTO secrets (function, name, ciphertext, key_id, created_at, updated_at)
      VALUES (${s.function}, ${s.name}, ${s.ciphertext}, ${s.keyId}, ${s.createdAt}, ${s.updatedAt})
      ON CONFLICT (function, name) DO UPDATE SET ciphertext = excluded.ciphertext, key_id = excluded.key_id,
        updated_at = excluded.updated_at`;
  }

  async getSecrets(fn: string): Promise<SecretRecord[]> {
    const rows = await this.sql<Row[]>`SELECT * FROM secrets WHERE function = ${fn} ORDER BY name`;
    return rows.map((r) => ({ ...toSecretMeta(r), ciphertext: buf(r.ciphertext) ?? Buffer.alloc(0) }));
  }

  async listSecrets(fn: string): Promise<Omit<SecretRecord, 'ciphertext'>[]> {
    const rows = await this.sql<Row[]>`SELECT function, name, key_id, created_at, updated_at FROM secrets
      WHERE function = ${fn} ORDER BY name`;
    return rows.map(toSecretMeta);
  }

  async deleteSecret(fn: string, name: string): Promise<boolean> {
    return (await this.sql`DELETE FROM secrets WHERE function = ${fn} AND name = ${name}`).count > 0;
  }

  async deleteFunctionSecrets(fn: string): Promise<number> {
    return (await this.sql`DELETE FROM secrets WHERE function = ${fn}`).count;
  }

  async countSecrets(): Promise<number> {
    const [row] = await this.sql<Row[]>`SELECT COUNT(*) AS n FROM secrets`;
    return Number(row?.n ?? 0);
  }
}
