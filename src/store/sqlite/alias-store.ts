/** Aliases and the AWS credentials of keys on the server's SQLite database. */
import type { AliasRecord } from '../../core/index.ts';
import type { AliasStore, AwsCredentialRecord, AwsCredentialStore } from '../aliases.ts';
import { toAlias, toAwsCredential, type Row } from '../rows.ts';
import { SqliteStatements } from './statements.ts';

/** SQLite AliasStore. */
export class SqliteAliasStore extends SqliteStatements implements AliasStore {
  async putAlias(a: AliasRecord): Promise<boolean> {
    // The versions are checked and the alias written under one write lock: a version pruned
    // meanwhile cannot end up named by an alias.
    return this.transaction(() => {
      const exists = this.prepare('SELECT 1 FROM versions WHERE function = ? AND version = ?');
      if (exists.get(a.function, a.version) === undefined) return false;
      if (a.canary && exists.get(a.function, a.canary.version) === undefined) return false;
      this.prepare(
        `INSERT INTO aliases (function, name, version, canary_version, canary_weight, description, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (function, name) DO UPDATE SET version = excluded.version,
           canary_version = excluded.canary_version, canary_weight = excluded.canary_weight,
           description = excluded.description, updated_at = excluded.updated_at`,
      ).run(
        a.function,
        a.name,
        a.version,
        a.canary?.version ?? null,
        a.canary?.weight ?? null,
        a.description,
        a.createdAt,
        a.updatedAt,
      );
      return true;
    });
  }

  async getAlias(fn: string, name: string): Promise<AliasRecord | undefined> {
    const row = this.prepare('SELECT * FROM aliases WHERE function = ? AND name = ?').get(fn, name) as
      Row | undefined;
    return row ? toAlias(row) : undefined;
  }

  async listAliases(fn: string): Promise<AliasRecord[]> {
    return (this.prepare('SELECT * FROM aliases WHERE function = ? ORDER BY name').all(fn) as Row[]).map(
      toAlias,
    );
  }

  async allAliases(): Promise<AliasRecord[]> {
    return (this.prepare('SELECT * FROM aliases ORDER BY function, name').all() as Row[]).map(toAlias);
  }

  async deleteAlias(fn: string, name: string): Promise<boolean> {
    return (
      Number(this.prepare('DELETE FROM aliases WHERE function = ? AND name = ?').run(fn, name).changes) > 0
    );
  }
}

/** SQLite AwsCredentialStore. */
export class SqliteAwsCredentialStore extends SqliteStatements implements AwsCredentialStore {
  async insertAwsCredential(c: AwsCredentialRecord): Promise<void> {
    this.prepare(
      'INSERT INTO aws_credentials (access_key_id, key_id, secret, box_key_id, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(c.accessKeyId, c.keyId, c.secretCiphertext, c.boxKeyId, c.createdAt);
  }

  async getAwsCredential(accessKeyId: string): Promise<AwsCredentialRecord | undefined> {
    const row = this.prepare('SELECT * FROM aws_credentials WHERE access_key_id = ?').get(accessKeyId) as
      Row | undefined;
    return row ? toAwsCredential(row) : undefined;
  }
}
