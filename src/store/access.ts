/**
 * Persistence of access control: API keys (as hashes), function secrets (as ciphertext) and the
 * audit log. Nothing here ever holds a key or a secret value in plain text.
 */
import type { ApiKeyRecord, AuditEntry, AuditQuery, SecretRecord } from '../core/index.ts';

/** API keys. */
export interface KeyStore {
  insertKey(key: ApiKeyRecord): void;
  getKey(id: string): ApiKeyRecord | undefined;
  /** Every key, revoked ones too, oldest first. */
  listKeys(): ApiKeyRecord[];
  /** Number of keys ever created (revoked included): zero means a first start. */
  countKeys(): number;
  /** Marks a key revoked; false if unknown or already revoked. */
  revokeKey(id: string, at: number): boolean;
  touchKey(id: string, at: number): void;
}

/** Encrypted secrets of functions. */
export interface SecretStore {
  putSecret(secret: SecretRecord): void;
  getSecrets(fn: string): SecretRecord[];
  /** Names and times only, never the ciphertext. */
  listSecrets(fn: string): Omit<SecretRecord, 'ciphertext'>[];
  deleteSecret(fn: string, name: string): boolean;
  deleteFunctionSecrets(fn: string): number;
  countSecrets(): number;
}

/** The audit log. */
export interface AuditStore {
  appendAudit(entry: AuditEntry): void;
  queryAudit(query: AuditQuery): AuditEntry[];
  /** Keeps the `keep` newest entries; returns how many were removed. */
  pruneAudit(keep: number): number;
}
