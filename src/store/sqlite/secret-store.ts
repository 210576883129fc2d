/** Function secrets on the server's SQLite database, as AES-256-GCM ciphertext only (sealed in auth/). */
import type { SecretRecord } from '../../core/index.ts';
import type { SecretStore } from '../access.ts';
import { toSecretMeta, type Row } from '../rows.ts';
import { SqliteStatements } from './statements.ts';

/** SQLite SecretStore. */
export class SqliteSecretStore extends SqliteStatements implements SecretStore {
  async putSecret(s: SecretRecord): Promise<void> {
    this.prepare(
      `INSERT INTO secrets (function, name, ciphertext, key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(function, name) DO UPDATE SET ciphertext = excluded.ciphertext, key_id = excluded.key_id,
         updated_at = excluded.updated_at`,
    ).run(s.function, s.name, s.ciphertext, s.keyId, s.createdAt, s.updatedAt);
  }

  async getSecrets(fn: string): Promise<SecretRecord[]> {
    return (this.prepare('SELECT * FROM secrets WHERE function = ? ORDER BY name').all(fn) as Row[]).map(
      (r) => ({
        ...toSecretMeta(r),
        ciphertext: Buffer.from(r.ciphertext as Uint8Array),
      }),
    );
  }

  async listSecrets(fn: string): Promise<Omit<SecretRecord, 'ciphertext'>[]> {
    const rows = this.prepare(
      'SELECT function, name, key_id, created_at, updated_at FROM secrets WHERE function = ? ORDER BY name',
    ).all(fn) as Row[];
    return rows.map(toSecretMeta);
  }

  async deleteSecret(fn: string, name: string): Promise<boolean> {
    return (
      Number(this.prepare('DELETE FROM secrets WHERE function = ? AND name = ?').run(fn, name).changes) > 0
    );
  }

  async deleteFunctionSecrets(fn: string): Promise<number> {
    return Number(this.prepare('DELETE FROM secrets WHERE function = ?').run(fn).changes);
  }

  async countSecrets(): Promise<number> {
    const row = this.prepare('SELECT COUNT(*) AS n FROM secrets').get() as Row | undefined;
    return Number(row?.n ?? 0);
  }
}
