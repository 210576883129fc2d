/**
 * Several kumo nodes on one throwaway PostgreSQL, each a real `kumo up` child process with its own
 * data folder and port (so a test can SIGKILL one), sharing the secrets key as the README says.
 * The first node's first start makes the admin key; the helpers send it to every node.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';
import { spawnKumo, useAdminKey, type KumoChild } from './harness.ts';

/** One node of a test cluster. */
export interface TestNode extends KumoChild {
  id: string;
  dataDir: string;
  adminKey: string;
}

/** A PostgreSQL database and the nodes on it. */
export interface TestCluster {
  pg: TestPostgres;
  storeUrl: string;
  nodes: TestNode[];
  /** Starts one more node (id `id`) on the same database. */
  addNode(id: string, extraArgs?: string[]): Promise<TestNode>;
  /** SIGKILLs a node and what it left running (its instances outlive it). */
  kill(node: TestNode): Promise<void>;
  /** Stops every node (SIGTERM), PostgreSQL, and removes the data folders. */
  dispose(): Promise<void>;
}

/** Starts PostgreSQL and nodes `ids` on one fresh database, one after the other. */
export async function startCluster(ids: string[], extraArgs: string[] = []): Promise<TestCluster> {
  const pg = await startPostgres();
  const storeUrl = await pg.createDatabase();
  const secretsKey = randomBytes(32).toString('base64');
  const nodes: TestNode[] = [];
  let adminKey: string | undefined;
  let firstDir: string | undefined;
  const addNode = async (id: string, more: string[] = []): Promise<TestNode> => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `kumo-node-${id}-`));
    await chmod(dataDir, 0o711);
    const child = await spawnKumo(
      ['--data', dataDir, '--store', storeUrl, '--node-id', id, ...extraArgs, ...more],
      { env: { ...process.env, KUMO_SECRETS_KEY: secretsKey } },
    );
    firstDir ??= dataDir;
    adminKey ??= await useAdminKey(child.url, firstDir);
    await useAdminKey(child.url, firstDir);
    const node = { ...child, id, dataDir, adminKey };
    nodes.push(node);
    return node;
  };
  for (const id of ids) await addNode(id);
  const kill = async (node: TestNode) => {
    node.child.kill('SIGKILL');
    await exited(node.child);
    await killLeftovers(node.dataDir);
  };
  return {
    pg,
    storeUrl,
    nodes,
    addNode,
    kill,
    async dispose() {
      await Promise.all(
        nodes.map(async (n) => {
          // A node that exited by itself (not killed by the test) shows why: its last output.
          if (n.child.exitCode !== null)
            console.log(`node ${n.id} exited with ${n.child.exitCode}:\n${n.output().slice(-4000)}`);
          if (n.child.exitCode === null && n.child.signalCode === null) {
            n.child.kill('SIGTERM');
            const timer = setTimeout(() => n.child.kill('SIGKILL'), 15_000);
            await exited(n.child);
            clearTimeout(timer);
          }
          await killLeftovers(n.dataDir);
          await rm(n.dataDir, { recursive: true, force: true });
        }),
      );
      await pg.stop();
    },
  };
}

/** Resolves when `child` has exited. */
export function exited(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve),
  );
}

/** Kills the instances a SIGKILLed node left behind (they name its data folder on their command line). */
export async function killLeftovers(dataDir: string): Promise<void> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dataDir) && !cmdline.includes('\0up\0')) {
      try {
        process.kill(Number(entry), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
