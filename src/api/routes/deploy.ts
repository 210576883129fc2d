/** POST /functions — deploy a bundle, answering with one JSON result or a stream of progress lines. */
import { KumoError, LIMITS } from '../../core/index.ts';
import { queryOf, readBody, sendJson, type Route, type RouteContext } from '../../http/index.ts';
import type { DeployOverrides } from '../../build/index.ts';
import type { DeployGate } from '../deploy-gate.ts';
import type { DeployService } from '../deploy-service.ts';
import type { SourceDeployer } from '../source-deploy.ts';
import { deployRun, repositoryBody } from './deploy-source.ts';

/** POST /functions (tar.gz, zip, or a git repository with `sources`). */
export function deployRoute(
  service: DeployService,
  uploadLimit: number,
  sources?: SourceDeployer,
  gate?: DeployGate,
): Route {
  return {
    method: 'POST',
    path: '/functions',
    scope: 'deploy',
    tag: 'functions',
    summary:
      'Deploy a bundle (gzipped tar or zip) or a git repository (JSON); progress as NDJSON with Accept: application/x-ndjson',
    body: { ...repositoryBody, raw: ['application/gzip', 'application/zip'], limit: uploadLimit },
    query: queryOf({
      name: 'the function name (overrides kumo.yaml)',
      handler: 'the handler (overrides kumo.yaml)',
      memory: 'memory in MB',
      timeout: 'timeout: 30s, or seconds',
      cpu: 'CPU share',
      maxProcesses: 'most processes at once',
      tmpSize: 'size of /tmp in MB',
      env: 'KEY=VALUE (repeatable)',
      luaMemory: 'lua VM memory in KB',
      luaTimeout: 'lua VM time per call in ms',
      fallbackName: 'the name when neither the manifest nor `name` gives one',
      template: 'a SAM template of the source (template.yaml) to deploy every function of',
    }),
    handler: deployHandler(service, uploadLimit, sources, gate),
  };
}

function deployHandler(
  service: DeployService,
  uploadLimit: number,
  sources?: SourceDeployer,
  gate?: DeployGate,
) {
  return async ({ req, res, query }: RouteContext): Promise<void> => {
    const overrides = parseOverrides(query);
    // A slot first: the upload is read, unpacked and built only within the bound.
    gate?.enter(res);
    const archive = await readBody(req, uploadLimit, 'upload');
    if (!archive.length)
      throw new KumoError(
        'bad_request',
        'the request body must be the bundle as a gzipped tar (kumo deploy makes one)',
      );
    const run = deployRun(service, sources, req, archive, query, overrides);
    const streaming = String(req.headers.accept ?? '').includes('application/x-ndjson');
    if (!streaming) {
      const result = await run({}, new AbortController().signal);
      sendJson(res, result.created ? 201 : 200, result);
      return;
    }
    // Errors before the build starts still get their own status; after it, they end the stream.
    let begun = false;
    const event = (e: Record<string, unknown>) => {
      if (!begun) {
        begun = true;
        res.writeHead(200, {
          'content-type': 'application/x-ndjson; charset=utf-8',
          'cache-control': 'no-store',
        });
      }
      res.write(`${JSON.stringify(e)}\n`);
    };
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    try {
      const result = await run(
        {
          onBuild: (version) => event({ event: 'build', version }),
          onLog: (line) => event({ event: 'log', line }),
          onStart: () => event({ event: 'start' }),
          onFunction: (fn) => event({ event: 'function', result: fn }),
        },
        controller.signal,
      );
      event({ event: 'done', result });
      res.end();
    } catch (err) {
      if (!begun) throw err;
      const error =
        err instanceof KumoError
          ? err
          : new KumoError('internal_error', 'internal error: see the server log');
      event({ event: 'error', ...error.toBody() });
      res.end();
    }
  };
}

/** Deploy flags from the query string. */
function parseOverrides(q: URLSearchParams): DeployOverrides {
  const o: DeployOverrides = {};
  const name = q.get('name');
  if (name) o.name = name;
  const handler = q.get('handler');
  if (handler) o.handler = handler;
  const memory = q.get('memory');
  if (memory !== null) {
    const n = Number(memory);
    if (!Number.isInteger(n)) {
      throw new KumoError(
        'invalid_manifest',
        `--memory must be a whole number of MB between ${LIMITS.memoryMb.min} and ${LIMITS.memoryMb.max} (got ${JSON.stringify(memory)})`,
      );
    }
    o.memory = n;
  }
  // The schema checks ranges and names the field; here only "is it a number at all".
  for (const [param, key, flag] of [
    ['cpu', 'cpu', '--cpu'],
    ['maxProcesses', 'maxProcesses', '--max-processes'],
    ['tmpSize', 'tmpSize', '--tmp-size'],
  ] as const) {
    const text = q.get(param);
    if (text === null) continue;
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n))
      throw new KumoError('invalid_manifest', `${flag} must be a number (got ${JSON.stringify(text)})`);
    o[key] = n;
  }
  const timeout = q.get('timeout');
  if (timeout) o.timeout = timeout;
  const env = q.getAll('env');
  if (env.length) {
    o.env = {};
    for (const pair of env) {
      const eq = pair.indexOf('=');
      if (eq <= 0)
        throw new KumoError('invalid_manifest', `--env must be KEY=VALUE (got ${JSON.stringify(pair)})`);
      o.env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return o;
}
