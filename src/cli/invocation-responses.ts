/**
 * The shapes of the server's async, history, stats and schedule answers (docs/http-api.md), validated
 * where they enter the CLI. Loose objects, so a newer server adding fields does not break an older CLI.
 */
import { z } from 'zod';

const nullableNumber = z.number().nullable();

/** One invocation in a listing. */
export const invocationSummarySchema = z.looseObject({
  id: z.string(),
  function: z.string(),
  version: nullableNumber,
  alias: z.string().nullable().optional(),
  trigger: z.string(),
  status: z.string(),
  attempt: z.number(),
  maxAttempts: z.number(),
  statusCode: nullableNumber,
  outcome: z.string().nullable(),
  cold: z.boolean().nullable(),
  createdAt: z.number(),
  startedAt: nullableNumber,
  durationMs: nullableNumber,
  nextRunAt: nullableNumber.optional(),
  error: z.looseObject({ code: z.string(), message: z.string() }).nullable(),
});
/** One invocation in a listing. */
export type InvocationSummaryOut = z.infer<typeof invocationSummarySchema>;

/** `GET /api/v1/history`. */
export const historyListSchema = z.looseObject({ invocations: z.array(invocationSummarySchema) });

const bodySchema = z.looseObject({
  body: z.string().nullable(),
  encoding: z.string().nullable(),
  truncated: z.boolean(),
});

/** `GET /api/v1/invocations/ID`. */
export const invocationDetailSchema = invocationSummarySchema.extend({
  request: bodySchema.extend({
    method: z.string(),
    path: z.string(),
    headers: z.record(z.string(), z.string()),
  }),
  response: bodySchema.extend({ headers: z.record(z.string(), z.string()) }).nullable(),
  attempts: z.array(
    z.looseObject({
      attempt: z.number(),
      startedAt: z.number(),
      durationMs: nullableNumber,
      statusCode: nullableNumber,
      outcome: z.string().nullable(),
      error: z.string().nullable(),
    }),
  ),
  logs: z.array(z.looseObject({ time: z.number(), stream: z.string(), line: z.string() })),
  callback: z
    .looseObject({
      url: z.string(),
      state: z.string(),
      attempts: z.number(),
      // Servers before issue 12 do not list delivery attempts.
      deliveries: z
        .array(
          z.looseObject({
            attempt: z.number(),
            startedAt: z.number(),
            durationMs: z.number(),
            outcome: z.string(),
            statusCode: z.number().nullable(),
            error: z.string().nullable(),
          }),
        )
        .optional(),
    })
    .nullable(),
});
/** One invocation in full. */
export type InvocationDetailOut = z.infer<typeof invocationDetailSchema>;

/** The 202 of an async invocation or a redrive. */
export const acceptedSchema = z.looseObject({ id: z.string(), status: z.string() });

/** `GET /api/v1/stats`. */
export const statsSchema = z.looseObject({
  since: z.number(),
  functions: z.array(
    z.looseObject({
      function: z.string(),
      count: z.number(),
      errors: z.number(),
      errorRate: z.number(),
      p50: z.number(),
      p95: z.number(),
      p99: z.number(),
      coldStarts: z.number(),
      coldShare: z.number(),
    }),
  ),
});

/** One schedule. */
export const scheduleSchema = z.looseObject({
  id: z.string(),
  function: z.string(),
  source: z.string(),
  cron: z.string(),
  tz: z.string().nullable(),
  overlap: z.string(),
  catchup: z.string(),
  next: z.array(z.number()),
});

/** `GET /api/v1/schedules`. */
export const scheduleListSchema = z.looseObject({ schedules: z.array(scheduleSchema) });

/** `DELETE /api/v1/functions/NAME/schedules[/ID]`. */
export const scheduleRemovedSchema = z.looseObject({ removed: z.array(z.string()) });
