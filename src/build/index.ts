/** build: source bundle → checked, content-addressed bundle → runtime build. */
export { extractBundle, DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive.ts';
export { hashTree, sha256 } from './tree-hash.ts';
export { readManifestFile, resolveSpec, MANIFEST_FILES, type DeployOverrides } from './manifest-file.ts';
export { Builder, buildToolEnv, type BuildRequest, type BuilderOptions } from './builder.ts';
export { BuildProxy } from './build-proxy.ts';
export { BuildStore, type BuildStoreOptions } from './build-store.ts';
export { runtimeFor } from './runtime-registry.ts';
export { extractZip, isZip } from './zip-archive.ts';
export { checkTree } from './tree-check.ts';
export { packDirectory } from './pack.ts';
export {
  cloneAt,
  remoteCommit,
  repositoryUrl,
  checkRef,
  DEFAULT_GIT_CONFIG,
  type GitConfig,
} from './git-source.ts';
export { planSource, type Plan, type Unit, type ExtraFields } from './formats/plan.ts';
export { DeployWatcher, type WatcherDeps } from './watcher.ts';
