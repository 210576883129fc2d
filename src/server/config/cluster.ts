/**
 * The `kumo up` flags of running several nodes on one store: the node's name (in /status and in
 * the history of every call it served), how long an async run's lease lasts without renewal
 * (--visibility-timeout: a dead node's runs are taken over after it), how long the scheduler's
 * leadership lasts without renewal (--leader-lease), and SO_REUSEPORT (--reuse-port).
 */
import os from 'node:os';
import { KumoError, parseDuration } from '../../core/index.ts';

/** Settings of one node of a cluster. */
export interface ClusterConfig {
  /** This node's name: unique among the nodes of one store. */
  nodeId: string;
  /** An async run's lease (ms); renewed every third of it while the run goes on. */
  visibilityTimeoutMs: number;
  /** The scheduler leader's lease (ms); renewed every third of it. */
  leaderLeaseMs: number;
  /** Listen with SO_REUSEPORT, so several nodes on one machine share the port. */
  reusePort: boolean;
}

/** The parseArgs options of these flags. */
export const CLUSTER_OPTIONS = {
  'node-id': { type: 'string' },
  'visibility-timeout': { type: 'string' },
  'leader-lease': { type: 'string' },
  'reuse-port': { type: 'boolean' },
} as const;

/** Their lines in `kumo up --help`. */
export const CLUSTER_USAGE = `  --node-id NAME           this node's name in /status and the history (env KUMO_NODE_ID, default HOST-PID)
  --visibility-timeout D   an async run's lease, renewed while it runs; a dead node's runs are taken over
                           after it (env KUMO_VISIBILITY_TIMEOUT, default 30s)
  --leader-lease D         the cron leader's lease; a new leader takes over within it (default 5s)
  --reuse-port             listen with SO_REUSEPORT: several nodes on one machine share --port
`;

type Values = {
  'node-id'?: string;
  'visibility-timeout'?: string;
  'leader-lease'?: string;
  'reuse-port'?: boolean;
};

/** A node name: letters, digits, dot, dash, underscore, at most 64. */
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The default node name: the host's name and this process's id. */
export function defaultNodeId(): string {
  const host =
    os
      .hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 48) || 'node';
  return `${host}-${process.pid}`;
}

/** Reads the flags over KUMO_NODE_ID and KUMO_VISIBILITY_TIMEOUT. */
export function parseClusterConfig(values: Values, env: NodeJS.ProcessEnv): ClusterConfig {
  const nodeId = values['node-id'] ?? env.KUMO_NODE_ID ?? defaultNodeId();
  if (!NODE_ID.test(nodeId))
    throw new KumoError(
      'bad_request',
      `--node-id must be 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit (got ${JSON.stringify(nodeId.slice(0, 80))})`,
    );
  const duration = (flag: string, text: string | undefined, def: number, min: number, max: number) => {
    if (text === undefined) return def;
    const ms = parseDuration(text);
    if (ms === undefined || ms < min || ms > max)
      throw new KumoError(
        'bad_request',
        `--${flag} must be a duration between ${min / 1000}s and ${max / 1000}s, like 30s (got ${JSON.stringify(text)})`,
      );
    return ms;
  };
  return {
    nodeId,
    visibilityTimeoutMs: duration(
      'visibility-timeout',
      values['visibility-timeout'] ?? env.KUMO_VISIBILITY_TIMEOUT,
      30_000,
      1000,
      3_600_000,
    ),
    leaderLeaseMs: duration('leader-lease', values['leader-lease'], 5000, 1000, 600_000),
    reusePort: values['reuse-port'] ?? false,
  };
}
