/**
 * The AWS credentials of kumo keys, for the Lambda API: an access key id and a secret access key
 * made for a kumo key (`kumo keys create --aws`), the secret shown once and stored sealed under
 * the secrets master key like function secrets (it must be readable to verify signatures, so it
 * cannot be a one-way hash as kumo keys are). A signed request is verified with SigV4 (sigv4.ts)
 * and stands for its kumo key: that key's scopes and revocation apply.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import type { ApiKeyInfo } from '../core/index.ts';
import { KumoError } from '../core/index.ts';
import type { AwsCredentialStore } from '../store/index.ts';
import type { KeyRing } from './key-ring.ts';
import type { SecretBox } from './secret-box.ts';
import { signingKey, verifySigV4, type SigV4Request } from './sigv4.ts';

/** A credential just made: the secret is in this value and nowhere else, ever. */
export interface CreatedAwsCredential {
  awsAccessKeyId: string;
  awsSecretAccessKey: string;
}

/** What the AWS keys need. */
export interface AwsKeysOptions {
  store: AwsCredentialStore;
  box: SecretBox;
  keys: KeyRing;
  now: () => number;
  /** How long an opened secret is trusted from memory (the key's revocation is checked each time). */
  cacheTtlMs?: number;
  random?: (n: number) => Buffer;
}

/** Base32 (RFC 4648) letters: access key ids look like AWS's (`AKIA` + 16 of A-Z, 2-7). */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Most opened secrets kept in memory. */
const MAX_CACHED = 10_000;

/** Creates AWS credentials for kumo keys and authenticates SigV4 requests with them. */
export class AwsKeys {
  private readonly o: AwsKeysOptions;
  /** Opened secrets by access key id, with their signing keys by scope (unknown ids are not kept). */
  private readonly cache = new Map<
    string,
    { secret: string; keyId: string; at: number; keys: Map<string, KeyObject> }
  >();

  constructor(options: AwsKeysOptions) {
    this.o = options;
  }

  /** Makes a credential for kumo key `keyId`. */
  async create(keyId: string): Promise<CreatedAwsCredential> {
    const random = this.o.random ?? randomBytes;
    const id = `AKIA${[...random(16)].map((b) => BASE32[b % 32]).join('')}`;
    const secret = random(30).toString('base64');
    await this.o.store.insertAwsCredential({
      accessKeyId: id,
      keyId,
      secretCiphertext: this.o.box.seal(Buffer.from(secret, 'utf8'), context(id)),
      boxKeyId: this.o.box.keyId,
      createdAt: this.o.now(),
    });
    this.cache.delete(id);
    return { awsAccessKeyId: id, awsSecretAccessKey: secret };
  }

  /**
   * The kumo key a SigV4-signed request stands for. Throws invalid_signature (wrong, stale or
   * malformed signature) or unrecognized_client (unknown access key id, revoked kumo key).
   */
  async authenticate(req: SigV4Request, service: string): Promise<{ key: ApiKeyInfo; region: string }> {
    let keyId: string | undefined;
    const auth = await verifySigV4(req, {
      service,
      now: this.o.now(),
      keyOf: async (id, scope) => {
        const found = await this.lookup(id);
        if (!found) return undefined;
        keyId = found.keyId;
        const name = `${scope.date}/${scope.region}/${scope.service}`;
        let key = found.keys.get(name);
        if (!key) {
          // A few scopes a day at most (a region or two); the entry itself lives for the cache TTL.
          if (found.keys.size >= 16) found.keys.clear();
          found.keys.set(name, (key = signingKey(found.secret, scope)));
        }
        return key;
      },
    });
    const check = await this.o.keys.checkId(keyId ?? '');
    if (!check.ok)
      throw new KumoError(
        'unrecognized_client',
        `The security token included in the request is invalid: the kumo key of ${auth.accessKeyId} is ${check.reason}`,
      );
    return { key: check.key, region: auth.region };
  }

  private async lookup(
    id: string,
  ): Promise<{ secret: string; keyId: string; keys: Map<string, KeyObject> } | undefined> {
    const now = this.o.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < (this.o.cacheTtlMs ?? 5000)) return hit;
    if (!/^AKIA[A-Z2-7]{16}$/.test(id)) return undefined;
    const record = await this.o.store.getAwsCredential(id);
    if (!record) return undefined;
    const entry = {
      secret: this.o.box.open(record.secretCiphertext, context(id)).toString('utf8'),
      keyId: record.keyId,
      at: now,
      keys: new Map<string, KeyObject>(),
    };
    this.cache.delete(id);
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(id, entry);
    return entry;
  }
}

/** The associated data a secret is sealed with: it opens only for its own access key id. */
function context(accessKeyId: string): string {
  return `aws-credential:${accessKeyId}`;
}
