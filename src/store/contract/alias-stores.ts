/** The contracts of the AliasStore and the AwsCredentialStore. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AliasRecord, ApiKeyRecord } from '../../core/index.ts';
import { finished, versionOf, withStores, type OpenStores } from './support.ts';

function alias(name: string, version: number, extra: Partial<AliasRecord> = {}): AliasRecord {
  return {
    function: 'f',
    name,
    version,
    canary: null,
    description: '',
    createdAt: 10,
    updatedAt: 10,
    ...extra,
  };
}

function key(id: string): ApiKeyRecord {
  return {
    id,
    name: `key-${id}`,
    scopes: ['read'],
    hash: `hash-${id}`,
    createdAt: 1,
    createdBy: null,
    lastUsedAt: null,
    revokedAt: null,
  };
}

/** Every AliasStore and AwsCredentialStore passes these. */
export function describeAliasStoresContract(open: OpenStores): void {
  describe('AliasStore contract', () => {
    test('an alias is created, replaced in one write keeping createdAt, listed by name and deleted once', () =>
      withStores(open, async ({ functions, aliases }) => {
        for (const v of [1, 2, 3]) await functions.addVersion(versionOf('f', v));
        assert.equal(await aliases.putAlias(alias('live', 1)), true);
        assert.equal(await aliases.putAlias(alias('beta', 2, { description: 'b' })), true);
        const canary = { version: 3, weight: 0.1 };
        assert.equal(
          await aliases.putAlias(alias('live', 2, { canary, createdAt: 99, updatedAt: 20 })),
          true,
        );
        assert.deepEqual(await aliases.getAlias('f', 'live'), alias('live', 2, { canary, updatedAt: 20 }));
        assert.deepEqual(
          (await aliases.listAliases('f')).map((a) => a.name),
          ['beta', 'live'],
        );
        assert.equal((await aliases.allAliases()).length, 2);
        assert.equal(await aliases.deleteAlias('f', 'beta'), true);
        assert.equal(await aliases.deleteAlias('f', 'beta'), false);
        assert.equal(await aliases.getAlias('f', 'beta'), undefined);
      }));

    test('an alias naming a version or function that does not exist is refused and nothing is written', () =>
      withStores(open, async ({ functions, aliases }) => {
        await functions.addVersion(versionOf('f', 1));
        assert.equal(await aliases.putAlias(alias('live', 7)), false);
        assert.equal(
          await aliases.putAlias(alias('live', 1, { canary: { version: 8, weight: 0.5 } })),
          false,
        );
        assert.equal(await aliases.putAlias(alias('live', 1, { function: 'nope' })), false);
        assert.deepEqual(await aliases.allAliases(), []);
      }));

    test('pruning spares versions an alias names; deleting the function removes its aliases', () =>
      withStores(open, async ({ functions, aliases }) => {
        for (const v of [1, 2, 3, 4]) await functions.addVersion(versionOf('f', v));
        await aliases.putAlias(alias('live', 1, { canary: { version: 2, weight: 0.2 } }));
        assert.equal(await functions.deleteVersions('f', [1, 2, 3]), 1);
        assert.deepEqual(
          (await functions.listVersions('f')).map((v) => v.version),
          [1, 2, 4],
        );
        await functions.deleteFunction('f');
        assert.deepEqual(await aliases.listAliases('f'), []);
        await functions.addVersion(versionOf('f', 1));
        assert.equal(
          await aliases.getAlias('f', 'live'),
          undefined,
          'a later function of that name starts without aliases',
        );
      }));

    test('history keeps the alias each call came through, beside the version that served it', () =>
      withStores(open, async ({ invocations }) => {
        await invocations.insertFinished([
          { ...finished('a', 'f', 1), version: 4, alias: 'live' },
          finished('b', 'f', 2),
        ]);
        assert.equal((await invocations.get('a'))?.alias, 'live');
        assert.equal((await invocations.get('a'))?.version, 4);
        assert.equal((await invocations.get('b'))?.alias, null);
        const listed = await invocations.list({ function: 'f', limit: 10 });
        assert.deepEqual(listed.map((r) => [r.id, r.alias]).sort(), [
          ['a', 'live'],
          ['b', null],
        ]);
      }));
  });

  describe('AwsCredentialStore contract', () => {
    test('a credential is stored sealed and found by its access key id', () =>
      withStores(open, async ({ keys, awsCredentials }) => {
        await keys.insertKey(key('abc'));
        const record = {
          accessKeyId: 'AKIAKUMO0000000000AB',
          keyId: 'abc',
          secretCiphertext: Buffer.from([1, 2, 3, 0, 255]),
          boxKeyId: 'box',
          createdAt: 5,
        };
        await awsCredentials.insertAwsCredential(record);
        assert.deepEqual(await awsCredentials.getAwsCredential(record.accessKeyId), record);
        assert.equal(await awsCredentials.getAwsCredential('AKIAKUMO0000000000XX'), undefined);
        await assert.rejects(awsCredentials.insertAwsCredential(record), 'an access key id is unique');
      }));
  });
}
