/**
 * The shapes of the server's answers (docs/http-api.md), validated where they enter the CLI. Objects are
 * loose so that a newer server adding fields does not break an older CLI.
 */
import { z } from 'zod';

/** `{ error: { code, message, details? } }`, the body of every error. */
export const errorBodySchema = z.looseObject({
  error: z.looseObject({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** The result of a deploy. */
export const deployResultSchema = z.looseObject({
  function: z.string(),
  version: z.number(),
  created: z.boolean(),
  hash: z.string(),
  url: z.string(),
  path: z.string(),
  files: z.number().optional(),
  bytes: z.number().optional(),
  buildLog: z.string().optional(),
  durationMs: z.number().optional(),
});
/** The result of a deploy. */
export type DeployResult = z.infer<typeof deployResultSchema>;

/** One line of the NDJSON deploy stream. */
export const deployEventSchema = z.discriminatedUnion('event', [
  z.looseObject({ event: z.literal('build'), version: z.number() }),
  z.looseObject({ event: z.literal('log'), line: z.string() }),
  z.looseObject({ event: z.literal('start') }),
  z.looseObject({ event: z.literal('done'), result: deployResultSchema }),
  z.looseObject({ event: z.literal('error'), error: errorBodySchema.shape.error }),
]);
/** One line of the NDJSON deploy stream. */
export type DeployEvent = z.infer<typeof deployEventSchema>;

/** An alias: the version it serves and its canary. */
export const aliasSchema = z.looseObject({
  name: z.string(),
  version: z.number(),
  canary: z.looseObject({ version: z.number(), weight: z.number() }).nullable().optional(),
});

/** `GET /api/v1/functions/NAME/aliases`. */
export const aliasListSchema = z.looseObject({ function: z.string(), aliases: z.array(aliasSchema) });

/** A function as `GET /api/v1/functions` describes it. */
export const functionInfoSchema = z.looseObject({
  name: z.string(),
  activeVersion: z.number(),
  url: z.string(),
  updatedAt: z.number(),
  instances: z.looseObject({
    total: z.number(),
    busy: z.number().optional(),
    starting: z.number().optional(),
  }),
  aliases: z.array(aliasSchema).optional(),
});

/** `GET /api/v1/functions`. */
export const functionListSchema = z.looseObject({
  functions: z.array(functionInfoSchema),
  sandbox: z.looseObject({ name: z.string(), isolated: z.boolean() }).optional(),
});

/** `GET /api/v1/functions/NAME/versions`. */
export const versionListSchema = z.looseObject({
  function: z.string(),
  activeVersion: z.number(),
  versions: z.array(
    z.looseObject({
      version: z.number(),
      hash: z.string(),
      createdAt: z.number(),
      active: z.boolean(),
      aliases: z.array(z.looseObject({ name: z.string(), weight: z.number() })).optional(),
    }),
  ),
});

/** `POST /api/v1/functions/NAME/rollback`. */
export const rollbackResultSchema = z.looseObject({ function: z.string(), from: z.number(), to: z.number() });

/** `DELETE /api/v1/functions/NAME`. */
export const deleteResultSchema = z.looseObject({ deleted: z.string() });

/** One captured output line of a function. */
export const logLineSchema = z.looseObject({
  time: z.number(),
  function: z.string().optional(),
  version: z.number(),
  invocationId: z.string().nullable(),
  stream: z.string(),
  line: z.string(),
});
/** One captured output line of a function. */
export type LogLineOut = z.infer<typeof logLineSchema>;

/** `GET /api/v1/functions/NAME/logs` without follow. */
export const logListSchema = z.looseObject({ lines: z.array(logLineSchema) });
