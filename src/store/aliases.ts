/**
 * Aliases of functions (core/alias.ts) and the AWS credentials of kumo keys (the Lambda API's
 * SigV4 keys, their secret sealed like function secrets).
 */
import type { AliasRecord } from '../core/index.ts';

/** Persistence of aliases. Every write is one atomic statement or transaction. */
export interface AliasStore {
  /**
   * Creates or replaces an alias in one write (an update or a rollback is atomic), keeping its
   * createdAt. False, and nothing written, when the function or a version it names does not exist.
   */
  putAlias(alias: AliasRecord): Promise<boolean>;
  getAlias(fn: string, name: string): Promise<AliasRecord | undefined>;
  /** The aliases of `fn`, by name. */
  listAliases(fn: string): Promise<AliasRecord[]>;
  /** Every alias of every function (routing loads them at start). */
  allAliases(): Promise<AliasRecord[]>;
  /** Removes an alias; false if it did not exist. */
  deleteAlias(fn: string, name: string): Promise<boolean>;
}

/** An AWS access key of a kumo key: its secret sealed under the server's master key. */
export interface AwsCredentialRecord {
  /** The public AWS access key id (AKIA… form, 20 characters). */
  accessKeyId: string;
  /** The kumo key it belongs to: its scopes and revocation apply. */
  keyId: string;
  /** The secret access key, sealed (auth/secret-box.ts) and bound to accessKeyId. */
  secretCiphertext: Buffer;
  /** Fingerprint of the master key that sealed it. */
  boxKeyId: string;
  createdAt: number;
}

/** Persistence of AWS credentials. */
export interface AwsCredentialStore {
  /** Stores a new credential (its access key id must be unused). */
  insertAwsCredential(record: AwsCredentialRecord): Promise<void>;
  getAwsCredential(accessKeyId: string): Promise<AwsCredentialRecord | undefined>;
}
