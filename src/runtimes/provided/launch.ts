/**
 * The command line of one provided instance: Node (the binary running kumo) running the provided
 * shim, which serves the Lambda Runtime API on a loopback port of the instance's own network
 * namespace and starts the bundle's `bootstrap` against it. The bootstrap gets Lambda's
 * environment; kumo's Node is on its PATH, so a Node runtime client runs as it would on Lambda.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV } from '../../core/index.ts';
import { BASE_ENV, controlEnv, readLaunchRecord, recordBundlePath, taskEnv } from '../launch-record.ts';
import { Placement, showTask } from '../layout.ts';
import type { LaunchOptions, LaunchPlan } from '../runtime.ts';
import { showNode, showShim } from '../shim-bundle.ts';

/** The program every provided instance runs (the Runtime API server and the bootstrap's parent). */
export const PROVIDED_SHIM = fileURLToPath(new URL('../instance/provided/shim.ts', import.meta.url));

/** The port Lambda serves its Runtime API on; in a sandbox the loopback is the instance's own. */
export const RUNTIME_API_PORT = 9001;

/** The region kumo tells functions they run in (AWS_REGION), unless the function sets its own. */
export const LAMBDA_REGION = 'us-east-1';
/** The account id in the ARNs kumo shows functions (twelve digits, as SDKs expect). */
export const LAMBDA_ACCOUNT = '000000000000';

/** Lambda's variables for a function (the reserved ones of Lambda's documentation that apply). */
export function lambdaEnv(options: LaunchOptions, task: string): Record<string, string> {
  const { spec } = options;
  return {
    _HANDLER: spec.handler ?? '',
    ...taskEnv(task),
    LAMBDA_RUNTIME_DIR: task,
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    AWS_LAMBDA_FUNCTION_VERSION: String(options.version),
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memory),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `kumo/${spec.name}/${options.version}`,
    AWS_REGION: LAMBDA_REGION,
    AWS_DEFAULT_REGION: LAMBDA_REGION,
    AWS_EXECUTION_ENV: 'kumo_provided',
    TZ: ':UTC',
  };
}

/** The ARN of a function as the Runtime API reports it. */
export function functionArn(name: string, region = LAMBDA_REGION): string {
  return `arn:aws:lambda:${region}:${LAMBDA_ACCOUNT}:function:${name}`;
}

/** Plans an instance of the build in `options.buildDir`. */
export function launchProvided(options: LaunchOptions): LaunchPlan {
  const { buildDir, spec } = options;
  const bootstrap = recordBundlePath(readLaunchRecord(buildDir, 'provided'), 'bootstrap');
  const place = new Placement(options.view);
  const task = showTask(place, options);
  const node = showNode(place);
  const shim = showShim(place, PROVIDED_SHIM);
  const env: Record<string, string> = { ...BASE_ENV, ...lambdaEnv(options, task), ...spec.env };
  return {
    command: node,
    args: ['--max-old-space-size=64', shim],
    env: {
      ...env,
      // kumo's Node first, so `#!/usr/bin/env node` bootstraps and runtime clients find it.
      PATH: `${path.posix.dirname(node)}:${env.PATH ?? BASE_ENV.PATH}`,
      ...controlEnv(options),
      [ENV.bootstrap]: `${task}/${bootstrap}`,
      // Without a sandbox instances share the host's loopback: each takes a free port.
      [ENV.runtimeApiPort]: String(options.view.neutral ? RUNTIME_API_PORT : 0),
      [ENV.functionArn]: functionArn(spec.name, env.AWS_REGION),
    },
    cwd: task,
    mounts: place.mounts,
  };
}
