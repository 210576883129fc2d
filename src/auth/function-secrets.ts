/**
 * Secrets of functions: set (sealed at once), listed by name only, unset, and opened only to build
 * an instance's environment. No method returns a value to a caller other than the instance
 * factory, so no route can print one.
 */
import { assertFunctionName, KumoError, SECRET_MAX_BYTES, SECRET_NAME } from '../core/index.ts';
import type { SecretStore } from '../store/index.ts';
import type { SecretBox } from './secret-box.ts';

/** A secret as listed: its name and times, never its value. */
export interface SecretInfo {
  name: string;
  createdAt: number;
  updatedAt: number;
}

/** Options of the secrets service. */
export interface FunctionSecretsOptions {
  store: SecretStore;
  box: SecretBox;
  now: () => number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The secrets of every function. */
export class FunctionSecrets {
  private readonly o: FunctionSecretsOptions;

  constructor(options: FunctionSecretsOptions) {
    this.o = options;
  }

  /** Seals and stores `value` as secret `name` of `fn` (created or replaced). */
  async set(fn: string, name: string, value: Buffer): Promise<SecretInfo & { created: boolean }> {
    assertFunctionName(fn);
    checkName(name);
    checkValue(name, value);
    const now = this.o.now();
    const existing = (await this.o.store.listSecrets(fn)).find((s) => s.name === name);
    await this.o.store.putSecret({
      function: fn,
      name,
      ciphertext: this.o.box.seal(value, context(fn, name)),
      keyId: this.o.box.keyId,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
    return { name, createdAt: existing?.createdAt ?? now, updatedAt: now, created: !existing };
  }

  /** The names of `fn`'s secrets. */
  async list(fn: string): Promise<SecretInfo[]> {
    assertFunctionName(fn);
    return (await this.o.store.listSecrets(fn)).map((s) => ({
      name: s.name,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
    }));
  }

  /** Removes secret `name` of `fn`; secret_not_found when there is none. */
  async unset(fn: string, name: string): Promise<void> {
    assertFunctionName(fn);
    if (!(await this.o.store.deleteSecret(fn, name))) {
      throw new KumoError(
        'secret_not_found',
        `function '${fn}' has no secret named ${JSON.stringify(name)} (see kumo secrets list ${fn})`,
      );
    }
  }

  /** Removes every secret of `fn` (the function was deleted). */
  deleteFunction(fn: string): Promise<number> {
    return this.o.store.deleteFunctionSecrets(fn);
  }

  /** The opened secrets of `fn` as environment variables, for the instance factory only. */
  async environment(fn: string): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const s of await this.o.store.getSecrets(fn)) {
      if (s.keyId !== this.o.box.keyId) {
        throw new KumoError(
          'secrets_unavailable',
          `secret ${s.name} of '${fn}' was sealed with another master key (${s.keyId}; this server has ${this.o.box.keyId}): restore that key, or set the secret again`,
        );
      }
      env[s.name] = utf8.decode(this.o.box.open(s.ciphertext, context(fn, s.name)));
    }
    return env;
  }
}

/** What a sealed value is bound to. */
function context(fn: string, name: string): string {
  return `kumo-secret:${fn}/${name}`;
}

function checkName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new KumoError(
      'bad_request',
      `secret name ${JSON.stringify(name)} must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*, at most 128) not starting with KUMO_`,
    );
  }
}

/** An environment variable holds UTF-8 text without NUL bytes. */
function checkValue(name: string, value: Buffer): void {
  if (value.length === 0)
    throw new KumoError(
      'bad_request',
      `secret ${name} is empty: give the value on stdin or with --from-file`,
    );
  if (value.length > SECRET_MAX_BYTES) {
    throw new KumoError(
      'payload_too_large',
      `secret ${name} is ${value.length} bytes; the limit is ${SECRET_MAX_BYTES}`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    throw new KumoError(
      'bad_request',
      `secret ${name} must be UTF-8 text (it becomes an environment variable)`,
    );
  }
  if (text.includes('\0'))
    throw new KumoError(
      'bad_request',
      `secret ${name} must not contain NUL bytes (it becomes an environment variable)`,
    );
}
