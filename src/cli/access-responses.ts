/** The shapes of the access-control answers (keys, whoami, secrets, audit), validated where they enter the CLI. */
import { z } from 'zod';

/** An API key as the server lists it (never the key itself). */
export const keyInfoSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  createdAt: z.number(),
  lastUsedAt: z.number().nullable(),
  revokedAt: z.number().nullable(),
});

/** `POST /api/v1/keys`: the key info plus the key, shown once. */
export const createdKeySchema = keyInfoSchema.extend({
  key: z.string(),
  awsAccessKeyId: z.string().optional(),
  awsSecretAccessKey: z.string().optional(),
});

/** `GET /api/v1/keys`. */
export const keyListSchema = z.looseObject({ keys: z.array(keyInfoSchema) });

/** `DELETE /api/v1/keys/ID`. */
export const revokedKeySchema = z.looseObject({ revoked: keyInfoSchema });

/** `PUT /api/v1/functions/NAME/secrets/KEY`. */
export const secretSetSchema = z.looseObject({
  function: z.string(),
  secret: z.string(),
  created: z.boolean(),
});

/** `GET /api/v1/functions/NAME/secrets`. */
export const secretListSchema = z.looseObject({
  function: z.string(),
  secrets: z.array(z.looseObject({ name: z.string(), createdAt: z.number(), updatedAt: z.number() })),
});

/** `DELETE /api/v1/functions/NAME/secrets/KEY`. */
export const secretDeletedSchema = z.looseObject({ function: z.string(), deleted: z.string() });

/** `GET /api/v1/audit`. */
export const auditListSchema = z.looseObject({
  entries: z.array(
    z.looseObject({
      time: z.number(),
      keyId: z.string().nullable(),
      keyName: z.string().nullable(),
      method: z.string(),
      path: z.string(),
      status: z.number(),
      outcome: z.string(),
      remote: z.string().nullable().optional(),
    }),
  ),
});
