/** build: source bundle → checked, content-addressed bundle → runtime build. */
export { extractBundle, DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive.ts';
export { hashTree, sha256 } from './tree-hash.ts';
export { readManifestFile, resolveSpec, MANIFEST_FILES, type DeployOverrides } from './manifest-file.ts';
export { buildBundle, type BuildRequest } from './builder.ts';
export { runtimeFor } from './runtime-registry.ts';
