/**
 * auth: who may do what. API keys (hashes only, constant-time checks) with scopes, the front-door
 * guard that applies each route's declared requirement before any route runs, rate limits,
 * function secrets sealed with AES-256-GCM under a master key kept outside the database, and the
 * audit log.
 */
export { AccessGuard, type AccessGuardOptions, type FunctionAccess } from './access-guard.ts';
export { KEY_PREFIX, hashApiKey, hashesEqual, keyIdOf, newApiKey } from './api-key.ts';
export { credentialOf, carriesKumoKey, stripKumoKey } from './authorization.ts';
export { AwsKeys, type AwsKeysOptions, type CreatedAwsCredential } from './aws-keys.ts';
export { verifySigV4, type SigV4Request, type SigV4Authorization } from './sigv4.ts';
export { AuditLog, type AuditLogOptions } from './audit-log.ts';
export { ADMIN_KEY_FILE, ensureAdminKey } from './first-start.ts';
export { FunctionSecrets, type FunctionSecretsOptions, type SecretInfo } from './function-secrets.ts';
export {
  KEY_CACHE_TTL_MS,
  KeyRing,
  type CreatedKey,
  type KeyCheck,
  type KeyRingOptions,
  type KeyRefusal,
} from './key-ring.ts';
export { RateLimiter, retryAfterSeconds, type Rate, type Take } from './rate-limiter.ts';
export { SecretBox, loadMasterKey, type MasterKeySource } from './secret-box.ts';
export { secretMasker, MIN_MASKED } from './secret-mask.ts';
