/** `kumo routes`: the API routes (METHOD /path → function) and their URLs. */
import { z } from 'zod';
import { COMMON_HELP, parseCommand } from '../args.ts';
import type { Command } from '../command.ts';
import { clientFor, printJson, printText, println } from '../command.ts';
import { formatTable } from '../format.ts';
import { write } from '../io.ts';

const USAGE = `Usage: kumo routes

List the API routes: METHOD PATH FUNCTION URL. A SAM template's Api and HttpApi events
make them (kumo deploy template.yaml); kumo serves each at /routes/PATH on its address,
where the function sees /PATH.

${COMMON_HELP}`;

/** `GET /api/v1/routes`. */
const routeListSchema = z.looseObject({
  routes: z.array(
    z.looseObject({ method: z.string(), path: z.string(), function: z.string(), url: z.string() }),
  ),
});

/** `kumo routes`. */
export const routesCommand: Command = {
  name: 'routes',
  synopsis: 'routes',
  summary: 'list API routes (from SAM Api/HttpApi events)',
  usage: USAGE,
  async run(args, io) {
    const { values } = parseCommand(args, {}, USAGE);
    if (values.help) return printText(io, USAGE);
    const { raw, data } = await clientFor(values, io).json(routeListSchema, 'GET', '/api/v1/routes');
    if (values.json) {
      await printJson(io, raw);
      return 0;
    }
    if (!data.routes.length) {
      await println(io, 'no API routes: a SAM template’s Api or HttpApi events make them');
      return 0;
    }
    await write(
      io.stdout,
      formatTable(
        ['METHOD', 'PATH', 'FUNCTION', 'URL'],
        data.routes.map((r) => [r.method, r.path, r.function, r.url]),
      ),
    );
    return 0;
  },
};
