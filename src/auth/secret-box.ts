/**
 * Sealing secrets at rest with AES-256-GCM under a master key kept outside the database (a 0600
 * file, by default `secrets.key` in the data directory, or the KUMO_SECRETS_KEY variable), so a
 * copy of kumo.db alone reveals no secret. Each secret is bound to its function and name as
 * associated data: a ciphertext moved to another row does not open.
 *
 * Envelope: version byte (1) | 12-byte random IV | 16-byte tag | ciphertext.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { KumoError } from '../core/index.ts';
import { writeOwnerOnlyFile } from './owner-file.ts';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Seals and opens secret values with one master key. */
export class SecretBox {
  /** Fingerprint of the master key (not the key): recorded with each secret to name a mismatch. */
  readonly keyId: string;
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES)
      throw new Error(`the secrets master key must be ${KEY_BYTES} bytes (got ${key.length})`);
    this.key = key;
    this.keyId = createHash('sha256').update('kumo-secrets-key-id').update(key).digest('hex').slice(0, 16);
  }

  /** Encrypts `value`, bound to `context` (function and secret name). */
  seal(value: Buffer, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(value), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
  }

  /** Decrypts an envelope sealed for `context`; a wrong key, context or a changed byte throws. */
  open(envelope: Buffer, context: string): Buffer {
    if (envelope.length < 1 + IV_BYTES + TAG_BYTES || envelope[0] !== VERSION) {
      throw new KumoError('secrets_unavailable', `secret ${context} is not a kumo v${VERSION} envelope`);
    }
    const iv = envelope.subarray(1, 1 + IV_BYTES);
    const tag = envelope.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(envelope.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new KumoError(
        'secrets_unavailable',
        `secret ${context} does not open with this master key (was it changed?)`,
      );
    }
  }
}

/** Where the master key comes from. */
export interface MasterKeySource {
  /** The key file (created with a new key, mode 0600, when absent). */
  file: string;
  /** KUMO_SECRETS_KEY: the key itself, base64 or hex; wins over the file and is never written. */
  inline?: string | undefined;
}

/** Reads the master key (inline, else the file), creating the file with a fresh key when there is none. */
export async function loadMasterKey(source: MasterKeySource): Promise<{ key: Buffer; created: boolean }> {
  if (source.inline) return { key: decodeKey(source.inline, 'KUMO_SECRETS_KEY'), created: false };
  let text: string | undefined;
  try {
    text = await readFile(source.file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) return { key: decodeKey(text, source.file), created: false };
  const key = randomBytes(KEY_BYTES);
  await writeOwnerOnlyFile(source.file, `${key.toString('base64')}\n`);
  return { key, created: true };
}

/** 32 bytes written as base64 or hex. */
function decodeKey(text: string, where: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new KumoError(
      'bad_request',
      `${where} must hold a ${KEY_BYTES}-byte key as base64 or hex (make one with: openssl rand -base64 32)`,
    );
  }
  return key;
}
