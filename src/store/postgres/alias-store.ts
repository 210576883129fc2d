/** Aliases and the AWS credentials of keys on PostgreSQL. */
import type { AliasRecord } from '../../core/index.ts';
import type { AliasStore, AwsCredentialRecord, AwsCredentialStore } from '../aliases.ts';
import { toAlias, toAwsCredential, type Row } from '../rows.ts';
import type { PgSql } from './database.ts';

/** PostgreSQL AliasStore. */
export class PgAliasStore implements AliasStore {
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async putAlias(a: AliasRecord): Promise<boolean> {
    const wanted = a.canary ? [a.version, a.canary.version] : [a.version];
    return this.sql.begin(async (tx) => {
      // FOR SHARE holds the named versions until the alias is written: a prune waits, then spares them.
      const found = await tx<Row[]>`SELECT version FROM versions
        WHERE function = ${a.function} AND version = ANY(${wanted}::integer[]) FOR SHARE`;
      if (new Set(found.map((r) => Number(r.version))).size !== new Set(wanted).size) return false;
      await tx`INSERT INTO aliases (function, name, version, canary_version, canary_weight, description, created_at, updated_at)
        VALUES (${a.function}, ${a.name}, ${a.version}, ${a.canary?.version ?? null}, ${a.canary?.weight ?? null},
          ${a.description}, ${a.createdAt}, ${a.updatedAt})
        ON CONFLICT (function, name) DO UPDATE SET version = excluded.version,
          canary_version = excluded.canary_version, canary_weight = excluded.canary_weight,
          description = excluded.description, updated_at = excluded.updated_at`;
      return true;
    });
  }

  async getAlias(fn: string, name: string): Promise<AliasRecord | undefined> {
    const [row] = await this.sql<Row[]>`SELECT * FROM aliases WHERE function = ${fn} AND name = ${name}`;
    return row ? toAlias(row) : undefined;
  }

  async listAliases(fn: string): Promise<AliasRecord[]> {
    return (await this.sql<Row[]>`SELECT * FROM aliases WHERE function = ${fn} ORDER BY name`).map(toAlias);
  }

  async allAliases(): Promise<AliasRecord[]> {
    return (await this.sql<Row[]>`SELECT * FROM aliases ORDER BY function, name`).map(toAlias);
  }

  async deleteAlias(fn: string, name: string): Promise<boolean> {
    return (await this.sql`DELETE FROM aliases WHERE function = ${fn} AND name = ${name}`).count > 0;
  }
}

/** PostgreSQL AwsCredentialStore. */
export class PgAwsCredentialStore implements AwsCredentialStore {
  private readonly sql: PgSql;

  constructor(sql: PgSql) {
    this.sql = sql;
  }

  async insertAwsCredential(c: AwsCredentialRecord): Promise<void> {
    await this.sql`INSERT INTO aws_credentials (access_key_id, key_id, secret, box_key_id, created_at)
      VALUES (${c.accessKeyId}, ${c.keyId}, ${c.secretCiphertext}, ${c.boxKeyId}, ${c.createdAt})`;
  }

  async getAwsCredential(accessKeyId: string): Promise<AwsCredentialRecord | undefined> {
    const [row] = await this.sql<Row[]>`SELECT * FROM aws_credentials WHERE access_key_id = ${accessKeyId}`;
    return row ? toAwsCredential(row) : undefined;
  }
}
