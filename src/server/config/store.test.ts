import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServerConfig } from './index.ts';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseServerConfig(argv, env, '/tmp').store;

test('--store picks the backend: sqlite by default, a PostgreSQL URL from the flag or KUMO_STORE, the flag winning', () => {
  assert.deepEqual(parse([]), { kind: 'sqlite' });
  assert.deepEqual(parse(['--store', 'sqlite']), { kind: 'sqlite' });
  const env = { KUMO_STORE: 'postgres://u:envpw@db.example:5433/kumo' };
  assert.deepEqual(parse([], env), {
    kind: 'postgres',
    url: 'postgres://u:envpw@db.example:5433/kumo',
    display: 'postgres://u@db.example:5433/kumo',
  });
  assert.deepEqual(parse(['--store', 'sqlite'], env), { kind: 'sqlite' }, 'the flag wins');
  const flag = parse(['--store', 'postgresql://u:flagpw@10.0.0.5/k'], env);
  assert.equal(flag.kind === 'postgres' && flag.display, 'postgres://u@10.0.0.5:5432/k');
});

test('a bad --store is refused with bad_request, without the password', () => {
  for (const bad of [
    'mysql://u:hidden-pw@h/db',
    'postgres://u:hidden-pw@h:99999/db',
    'postgres://u:hidden-pw@h/',
  ]) {
    assert.throws(
      () => parse(['--store', bad]),
      (err: Error & { code?: string }) => err.code === 'bad_request' && !err.message.includes('hidden-pw'),
      bad,
    );
  }
});
