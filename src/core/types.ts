/** Domain records shared by the parts. Plain data, no behaviour. */
import type { FunctionSpec } from './manifest.ts';

/** A deployed function: its name and which version serves. */
export interface FunctionRecord {
  name: string;
  activeVersion: number;
  createdAt: number;
  updatedAt: number;
}

/** One immutable deploy of a function. */
export interface VersionRecord {
  function: string;
  version: number;
  /** sha256 of the bundle content and the effective spec: same hash, same version. */
  hash: string;
  /** sha256 of the uploaded source bundle (content-addressed storage key). */
  bundleHash: string;
  spec: FunctionSpec;
  /** Path of the built artefact the instances run from. */
  buildDir: string;
  buildLog: string;
  createdAt: number;
}

/** One captured line of an instance's output. */
export interface LogLine {
  id?: number;
  time: number;
  function: string;
  version: number;
  invocationId: string | null;
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
}
