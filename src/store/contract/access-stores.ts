/** The contracts of the access stores: API keys, function secrets, the audit log. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApiKeyRecord, AuditEntry, SecretRecord } from '../../core/index.ts';
import { withStores, type OpenStores } from './support.ts';

function key(id: string, createdAt: number): ApiKeyRecord {
  return {
    id,
    name: `key-${id}`,
    scopes: ['deploy', 'invoke'],
    hash: `hash-${id}`,
    createdAt,
    createdBy: null,
    lastUsedAt: null,
    revokedAt: null,
  };
}

function secret(fn: string, name: string, at: number): SecretRecord {
  return {
    function: fn,
    name,
    ciphertext: Buffer.from(`sealed ${name} ${at}`),
    keyId: 'k1',
    createdAt: at,
    updatedAt: at,
  };
}

function entry(time: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    time,
    keyId: 'k',
    keyName: 'key-k',
    method: 'POST',
    path: '/api/v1/functions',
    route: '/api/v1/functions',
    scope: 'deploy',
    function: null,
    status: 200,
    outcome: 'ok',
    remote: '127.0.0.1',
    durationMs: 3,
    ...extra,
  };
}

/** Every KeyStore, SecretStore and AuditStore passes these. */
export function describeAccessStoresContract(open: OpenStores): void {
  describe('KeyStore contract', () => {
    test('keys are stored, listed oldest first, touched and revoked once', () =>
      withStores(open, async ({ keys }) => {
        assert.equal(await keys.countKeys(), 0);
        await keys.insertKey(key('b', 2));
        await keys.insertKey(key('a', 1));
        assert.equal(await keys.countKeys(), 2);
        assert.deepEqual(await keys.getKey('a'), key('a', 1));
        assert.equal(await keys.getKey('c'), undefined);
        assert.deepEqual(
          (await keys.listKeys()).map((k) => k.id),
          ['a', 'b'],
        );
        await keys.touchKey('a', 50);
        assert.equal((await keys.getKey('a'))?.lastUsedAt, 50);
        assert.equal(await keys.revokeKey('a', 60), true);
        assert.equal(await keys.revokeKey('a', 70), false, 'already revoked');
        assert.equal(await keys.revokeKey('c', 70), false, 'unknown');
        assert.equal((await keys.getKey('a'))?.revokedAt, 60);
        assert.equal(await keys.countKeys(), 2, 'revoked keys still count');
      }));
  });

  describe('SecretStore contract', () => {
    test('secrets are stored per function, replaced by name, listed without ciphertext and deleted', () =>
      withStores(open, async ({ secrets }) => {
        await secrets.putSecret(secret('f', 'B', 1));
        await secrets.putSecret(secret('f', 'A', 1));
        await secrets.putSecret(secret('g', 'A', 1));
        await secrets.putSecret({ ...secret('f', 'B', 5), createdAt: 5 });
        assert.equal(await secrets.countSecrets(), 3);
        assert.deepEqual(await secrets.getSecrets('f'), [
          secret('f', 'A', 1),
          { ...secret('f', 'B', 5), createdAt: 1 },
        ]);
        assert.deepEqual(await secrets.listSecrets('f'), [
          { function: 'f', name: 'A', keyId: 'k1', createdAt: 1, updatedAt: 1 },
          { function: 'f', name: 'B', keyId: 'k1', createdAt: 1, updatedAt: 5 },
        ]);
        assert.equal(await secrets.deleteSecret('f', 'A'), true);
        assert.equal(await secrets.deleteSecret('f', 'A'), false);
        assert.equal(await secrets.deleteFunctionSecrets('f'), 1);
        assert.deepEqual(await secrets.getSecrets('f'), []);
        assert.equal(await secrets.countSecrets(), 1);
      }));
  });

  describe('AuditStore contract', () => {
    test('entries are read newest first, filtered, limited, and pruned to the newest', () =>
      withStores(open, async ({ audit }) => {
        await audit.appendAudit(
          entry(1, { keyId: null, keyName: null, outcome: 'unauthorized', status: 401 }),
        );
        await audit.appendAudit(entry(2, { function: 'f' }));
        await audit.appendAudit(entry(3, { keyId: 'other' }));
        const all = await audit.queryAudit({ limit: 10 });
        assert.deepEqual(
          all.map((e) => e.time),
          [3, 2, 1],
        );
        assert.deepEqual(
          { ...all[2], id: undefined },
          {
            ...entry(1, { keyId: null, keyName: null, outcome: 'unauthorized', status: 401 }),
            id: undefined,
          },
        );
        assert.deepEqual(
          (await audit.queryAudit({ limit: 10, since: 2 })).map((e) => e.time),
          [3, 2],
        );
        assert.deepEqual(
          (await audit.queryAudit({ limit: 10, keyId: 'k' })).map((e) => e.time),
          [2],
        );
        assert.deepEqual(
          (await audit.queryAudit({ limit: 10, function: 'f' })).map((e) => e.time),
          [2],
        );
        assert.deepEqual(
          (await audit.queryAudit({ limit: 1 })).map((e) => e.time),
          [3],
        );
        assert.equal(await audit.pruneAudit(2), 1);
        assert.deepEqual(
          (await audit.queryAudit({ limit: 10 })).map((e) => e.time),
          [3, 2],
        );
      }));
  });
}
