/** `kumo up` options of deploy sources: the watched deploy folder and git repositories. */
import path from 'node:path';
import { DEFAULT_GIT_CONFIG, type GitConfig } from '../../build/index.ts';
import { KumoError } from '../../core/index.ts';

/** Deploy-source settings of the server. */
export interface SourcesConfig {
  /** Deploy every function folder in this folder and follow its changes (kumo up --watch). */
  watchDir: string | undefined;
  git: GitConfig;
}

/** parseArgs options of this part. */
export const SOURCES_OPTIONS = {
  watch: { type: 'string' },
  'git-base': { type: 'string' },
  'allow-file-repos': { type: 'boolean', default: false },
} as const;

/** The lines of `kumo up --help` for these options. */
export const SOURCES_USAGE = `  --watch DIR              deploy every function folder in DIR, redeploy on change, delete when removed
  --git-base URL           where "kumo deploy owner/repo" clones from (env KUMO_GIT_BASE, default https://github.com/)
  --allow-file-repos       allow deploys from file:// and local git repositories (env KUMO_ALLOW_FILE_REPOS=1)
`;

/** Reads the options of this part. */
export function parseSourcesConfig(
  values: {
    watch?: string | undefined;
    'git-base'?: string | undefined;
    'allow-file-repos'?: boolean | undefined;
  },
  env: NodeJS.ProcessEnv,
  cwd: string,
): SourcesConfig {
  const baseUrl = values['git-base'] ?? env.KUMO_GIT_BASE ?? DEFAULT_GIT_CONFIG.baseUrl;
  if (!/^(https?|ssh|git|file):\/\//.test(baseUrl))
    throw new KumoError('bad_request', `--git-base must be a URL like https://github.com/ (got ${baseUrl})`);
  return {
    watchDir: values.watch ? path.resolve(cwd, values.watch) : undefined,
    git: {
      ...DEFAULT_GIT_CONFIG,
      baseUrl,
      allowFile: values['allow-file-repos'] === true || env.KUMO_ALLOW_FILE_REPOS === '1',
    },
  };
}
