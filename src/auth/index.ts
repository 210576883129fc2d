/**
 * auth: who may do what. API keys (hashes only, constant-time checks) with scopes, the access rule
 * table and the front-door guard in front of every request, rate limits, function secrets sealed
 * with AES-256-GCM under a master key kept outside the database, and the audit log.
 */
export { AccessGuard, type AccessGuardOptions, type FunctionAccess } from './access-guard.ts';
export {
  CONTROL_RULES,
  TOP_LEVEL_RULES,
  INVOCATION_PATHS,
  RESULT_PATH,
  classifyRequest,
  controlRequirement,
  type AccessRule,
  type Requirement,
  type RequestClass,
} from './access-rules.ts';
export { KEY_PREFIX, hashApiKey, hashesEqual, keyIdOf, newApiKey } from './api-key.ts';
export { credentialOf, carriesKumoKey, stripKumoKey } from './authorization.ts';
export { AuditLog, type AuditLogOptions } from './audit-log.ts';
export { ADMIN_KEY_FILE, ensureAdminKey } from './first-start.ts';
export { FunctionSecrets, type FunctionSecretsOptions, type SecretInfo } from './function-secrets.ts';
export { KeyRing, type CreatedKey, type KeyCheck, type KeyRingOptions, type KeyRefusal } from './key-ring.ts';
export { RateLimiter, retryAfterSeconds, type Rate, type Take } from './rate-limiter.ts';
export { SecretBox, loadMasterKey, type MasterKeySource } from './secret-box.ts';
export { secretMasker, MIN_MASKED } from './secret-mask.ts';
