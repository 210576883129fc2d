/** `kumo up` options of builds: their limits, what they may reach on the network, how many versions are kept. */
import { BUILD_LIMITS, KumoError, type BuildLimits } from '../../core/index.ts';

/** Build settings of the server. */
export interface BuildConfig {
  /** Defaults and ceilings of every build (a manifest's `build:` may ask for up to these). */
  limits: BuildLimits;
  /** `host:port` pairs builds may reach through kumo's proxy (registries, mirrors); none: no network. */
  allow: string[];
  /** Versions of a function kept besides the active one and its rollback target. */
  keepVersions: number;
}

/** parseArgs options of this part. */
export const BUILD_OPTIONS = {
  'build-memory': { type: 'string' },
  'build-cpu': { type: 'string' },
  'build-timeout': { type: 'string' },
  'build-disk': { type: 'string' },
  'build-allow': { type: 'string', multiple: true },
  'keep-versions': { type: 'string' },
} as const;

/** The lines of `kumo up --help` for these options. */
export const BUILD_USAGE = `  --build-memory MB        memory of a build, default and most a manifest may ask (default ${BUILD_LIMITS.memoryMb.default})
  --build-cpu N            CPU cores of a build (default ${BUILD_LIMITS.cpu.default})
  --build-timeout S        wall time of a build in seconds (default ${BUILD_LIMITS.timeoutMs.default / 1000})
  --build-disk MB          disk of a build: its work folder and its /tmp (default ${BUILD_LIMITS.diskMb.default})
  --build-allow HOST:PORT  a registry or mirror builds may reach (repeatable; env KUMO_BUILD_ALLOW, comma-separated);
                           without it builds have no network
  --keep-versions N        versions kept per function besides the active one and its rollback target (default 10)
`;

/** Reads the options of this part. */
export function parseBuildConfig(
  values: {
    'build-memory'?: string | undefined;
    'build-cpu'?: string | undefined;
    'build-timeout'?: string | undefined;
    'build-disk'?: string | undefined;
    'build-allow'?: string[] | undefined;
    'keep-versions'?: string | undefined;
  },
  env: NodeJS.ProcessEnv,
): BuildConfig {
  const num = (flag: keyof typeof BUILD_LIMITS, text: string | undefined, scale = 1) => {
    const { min, max, default: def } = BUILD_LIMITS[flag];
    if (text === undefined) return def;
    const n = Number(text) * scale;
    const name = `--build-${flag.replace(/Mb$|Ms$/, '').toLowerCase()}`;
    if (!Number.isFinite(n) || n < min || n > max)
      throw new KumoError(
        'bad_request',
        `${name} must be between ${min / scale} and ${max / scale} (got ${text})`,
      );
    return n;
  };
  const allow = [...(values['build-allow'] ?? []), ...(env.KUMO_BUILD_ALLOW ?? '').split(',')]
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of allow) {
    if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/.test(entry))
      throw new KumoError('bad_request', `--build-allow takes HOST:PORT (got ${JSON.stringify(entry)})`);
  }
  const keep = Number(values['keep-versions'] ?? 10);
  if (!Number.isInteger(keep) || keep < 1 || keep > 10_000)
    throw new KumoError(
      'bad_request',
      `--keep-versions must be a whole number from 1 to 10000 (got ${values['keep-versions']})`,
    );
  return {
    limits: {
      memoryMb: Math.round(num('memoryMb', values['build-memory'])),
      cpu: num('cpu', values['build-cpu']),
      timeoutMs: Math.round(num('timeoutMs', values['build-timeout'], 1000)),
      diskMb: Math.round(num('diskMb', values['build-disk'])),
    },
    allow: [...new Set(allow.map((a) => a.toLowerCase()))],
    keepVersions: keep,
  };
}
