/**
 * Which versions of a function are kept: the active one, its rollback target (the latest version
 * before it) and the last `keep` versions; the others are removed with their builds and bundles.
 * Deleting a function removes all of them.
 */
import type { BuildStore } from '../build/index.ts';
import type { FunctionStore } from '../store/index.ts';
import type { VersionRecord } from '../core/index.ts';

/** Removes versions of `name` beyond the retention; returns the numbers removed. */
export async function pruneVersions(
  store: FunctionStore,
  builds: BuildStore,
  name: string,
  keep: number,
): Promise<number[]> {
  const fn = await store.getFunction(name);
  if (!fn) return [];
  const all = await store.listVersions(name);
  const kept = new Set(all.slice(-keep).map((v) => v.version));
  kept.add(fn.activeVersion);
  const rollbackTarget = all.filter((v) => v.version < fn.activeVersion).pop();
  if (rollbackTarget) kept.add(rollbackTarget.version);
  const gone = all.filter((v) => !kept.has(v.version));
  if (!gone.length) return [];
  await store.deleteVersions(
    name,
    gone.map((v) => v.version),
  );
  await releaseCode(builds, gone);
  return gone.map((v) => v.version);
}

/** Deletes a function's record and then its code (builds, staged copies, bundles). */
export async function deleteFunctionCode(
  store: FunctionStore,
  builds: BuildStore,
  name: string,
): Promise<void> {
  const versions = await store.listVersions(name);
  await store.deleteFunction(name);
  await releaseCode(builds, versions);
}

async function releaseCode(builds: BuildStore, versions: VersionRecord[]): Promise<void> {
  for (const dir of new Set(versions.map((v) => v.buildDir))) await builds.release(dir);
  for (const hash of new Set(versions.map((v) => v.bundleHash))) await builds.releaseBundle(hash);
}
