/**
 * Persistence of access control: API keys (as hashes), function secrets (as ciphertext) and the
 * audit log. Nothing here ever holds a key or a secret value in plain text.
 */
import type { ApiKeyRecord, AuditEntry, AuditQuery, SecretRecord } from '../core/index.ts';

/** API keys. */
export interface KeyStore {
  /** Stores a new key (its id must be unused). */
  insertKey(key: ApiKeyRecord): Promise<void>;
  getKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Every key, revoked ones too, oldest first. */
  listKeys(): Promise<ApiKeyRecord[]>;
  /** Number of keys ever created (revoked included): zero means a first start. */
  countKeys(): Promise<number>;
  /** Marks a key revoked; false if unknown or already revoked. */
  revokeKey(id: string, at: number): Promise<boolean>;
  /** Records when a key was last used. */
  touchKey(id: string, at: number): Promise<void>;
}

/** Encrypted secrets of functions. */
export interface SecretStore {
  /** Stores a secret, replacing the ciphertext of one of the same function and name (its createdAt stays). */
  putSecret(secret: SecretRecord): Promise<void>;
  /** The secrets of `fn`, by name. */
  getSecrets(fn: string): Promise<SecretRecord[]>;
  /** Names and times only, never the ciphertext, by name. */
  listSecrets(fn: string): Promise<Omit<SecretRecord, 'ciphertext'>[]>;
  deleteSecret(fn: string, name: string): Promise<boolean>;
  deleteFunctionSecrets(fn: string): Promise<number>;
  /** Secrets of every function. */
  countSecrets(): Promise<number>;
}

/** The audit log. */
export interface AuditStore {
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Entries matching `query`, newest first. */
  queryAudit(query: AuditQuery): Promise<AuditEntry[]>;
  /** Keeps the `keep` newest entries; returns how many were removed. */
  pruneAudit(keep: number): Promise<number>;
}
