/**
 * Part of the composition root: builds API keys, secrets, the audit log, rate limits and the front
 * door, and gives server.ts the few hooks it wires (admit each request, the secrets of a new
 * instance, the control API routes, first start, the listener's header limit).
 */
import { chmod } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessConfig } from './config/access.ts';
import type { AccessRoutesDeps } from '../api/index.ts';
import {
  AccessGuard,
  AuditLog,
  AwsKeys,
  ensureAdminKey,
  FunctionSecrets,
  KeyRing,
  loadMasterKey,
  RateLimiter,
  SecretBox,
  secretMasker,
} from '../auth/index.ts';
import type { FunctionSpec, ServerLog } from '../core/index.ts';
import type { Lookup } from '../http/index.ts';
import type { InstancePool } from '../pool/index.ts';
import type {
  ActiveVersions,
  AuditStore,
  AwsCredentialStore,
  KeyStore,
  SecretStore,
} from '../store/index.ts';

/** What the access parts need from the server. */
export interface AccessPartsDeps {
  config: AccessConfig;
  dataDir: string;
  /** The SQLite database file (made readable by its owner only); undefined on PostgreSQL. */
  dbFile: string | undefined;
  stores: { keys: KeyStore; secrets: SecretStore; audit: AuditStore; awsCredentials: AwsCredentialStore };
  versions: ActiveVersions;
  pool: InstancePool;
  /** Whether function `name` is deployed. */
  exists: (name: string) => boolean;
  log: ServerLog;
}

/** The built parts and their hooks. */
export type AccessParts = Awaited<ReturnType<typeof createAccessParts>>;

/** Builds keys, secrets, audit, limits and the guard. */
export async function createAccessParts(d: AccessPartsDeps) {
  if (d.dbFile !== undefined) await ownerOnlyDatabase(d.dbFile);
  const now = Date.now;
  const keys = new KeyRing({
    store: d.stores.keys,
    now,
    onTouchError: (err) =>
      d.log.warn('keys: recording when a key was last used failed', { error: String(err) }),
  });
  const audit = new AuditLog({ store: d.stores.audit });
  const master = await openMasterKey(d);
  const box = new SecretBox(master);
  const secrets = new FunctionSecrets({ store: d.stores.secrets, box, now });
  // The Lambda API's SigV4 credentials: secrets sealed with the same master key.
  const awsKeys = new AwsKeys({ store: d.stores.awsCredentials, box, keys, now });
  const limiter = new RateLimiter(now);
  const guard = new AccessGuard({
    keys,
    audit,
    limiter,
    apiRate: d.config.apiRate,
    functionAccess: (name) => {
      const spec = d.versions.get(name)?.spec;
      // Versions deployed before access control have no `access` field: they stay public.
      return spec ? { access: spec.access ?? 'public', rateLimit: spec.rateLimit } : undefined;
    },
    functionOf: (raw) => d.versions.functionOf(raw),
    urlLimit: d.config.urlLimit,
    headerLimit: d.config.headerLimit,
    now,
  });
  // A deleted function takes its secrets with it: a later function of the same name starts clean.
  const unfollow = d.versions.onChange((name) => {
    if (d.exists(name)) return;
    limiter.forget(`fn:${name}`);
    secrets.deleteFunction(name).catch((err: unknown) =>
      d.log.error('secrets: removing those of a deleted function failed', {
        function: name,
        error: String(err),
      }),
    );
  });

  const apiDeps: AccessRoutesDeps = {
    keys,
    awsKeys,
    callerOf: (req) => guard.callerOf(req),
    secrets,
    restart: (name) => {
      const active = d.versions.get(name);
      if (!active) return;
      // Idle instances stop now and new ones start with the new environment.
      d.pool.retireFunction(name);
      d.pool.activate(active);
    },
    audit,
    now,
  };

  return {
    apiDeps,
    awsKeys,
    /** Admits or answers `req`, found in the route table as `found`; false when it was answered. */
    admit: (req: IncomingMessage, res: ServerResponse, pathname: string, found: Lookup): Promise<boolean> =>
      guard.admit(req, res, pathname, found),
    /**
     * What a new instance of function `fn` gets: its spec with the opened secrets added to `env` (secrets
     * win over manifest variables of the same name), and a masker for its log lines.
     */
    async instanceSecrets(
      fn: string,
      spec: FunctionSpec,
    ): Promise<{ spec: FunctionSpec; mask: (line: string) => string }> {
      const env = await secrets.environment(fn);
      if (Object.keys(env).length === 0) return { spec, mask: (line) => line };
      return { spec: { ...spec, env: { ...spec.env, ...env } }, mask: secretMasker(Object.values(env)) };
    },
    /** Whether `req` may read a result of function `fn`; false when the refusal was sent. */
    admitResult: (req: IncomingMessage, res: ServerResponse, fn: string): Promise<boolean> =>
      guard.admitResult(req, res, fn),
    /** Creates the first admin key when there is none. */
    firstStart: () => ensureAdminKey(keys, d.dataDir, d.log),
    /** Node's own header limit: above ours (so we answer with JSON), but bounded. */
    maxHeaderSize: d.config.urlLimit + d.config.headerLimit + 1024,
    close(): void {
      unfollow();
      audit.close();
    },
  };
}

/** The secrets master key; a new one beside existing secrets is worth a warning (they will not open). */
async function openMasterKey(d: AccessPartsDeps): Promise<Buffer> {
  const master = await loadMasterKey({ file: d.config.secretsKeyFile, inline: d.config.secretsKeyInline });
  if (master.created && (await d.stores.secrets.countSecrets()) > 0)
    d.log.warn(
      'a new secrets master key was created but secrets exist: they were sealed with another key and will not open',
      { file: d.config.secretsKeyFile },
    );
  return master.key;
}

/** kumo.db holds logs, history and the audit log: only its owner may read it (and its WAL files). */
async function ownerOnlyDatabase(file: string): Promise<void> {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    await chmod(f, 0o600).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}
