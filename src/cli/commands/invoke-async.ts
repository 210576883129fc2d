/** The `--async` side of `kumo invoke`: the request headers that ask for it and the printed id. */
import { responseError, readJson, validate } from '../client.ts';
import { printJson, println } from '../command.ts';
import type { CliIO } from '../io.ts';
import { UsageError } from '../io.ts';
import { acceptedSchema } from '../invocation-responses.ts';

/** The options `kumo invoke` adds for async invocations. */
export const ASYNC_INVOKE_OPTIONS = {
  async: { type: 'boolean' },
  callback: { type: 'string' },
  'task-token': { type: 'string' },
} as const;

/** Their lines in `kumo invoke --help`. */
export const ASYNC_INVOKE_HELP = `  --async               queue the invocation and print its id (see kumo result ID)
  --callback URL        with --async: POST the result to URL when it is done
  --task-token T        with --async: passed back in the callback as "task-token"`;

/** Adds Prefer: respond-async and the callback headers when --async is given. */
export function addAsyncHeaders(
  values: { async?: boolean | undefined; callback?: string | undefined; 'task-token'?: string | undefined },
  headers: Headers,
  usage: string,
): void {
  if (!values.async) {
    if (values.callback !== undefined || values['task-token'] !== undefined)
      throw new UsageError('--callback and --task-token need --async', usage);
    return;
  }
  headers.set('prefer', 'respond-async');
  if (values.callback !== undefined) headers.set('x-callback-url', values.callback);
  if (values['task-token'] !== undefined) headers.set('x-task-token', values['task-token']);
}

/** Prints the id of an accepted async invocation (or its JSON); a refusal throws its error. */
export async function printAccepted(response: Response, json: boolean, io: CliIO): Promise<number> {
  if (response.status !== 202) throw await responseError(response);
  const raw = await readJson(response, 'async invoke');
  const data = validate(acceptedSchema, raw, 'async invoke');
  if (json) await printJson(io, raw);
  else await println(io, data.id);
  return 0;
}
