// An API Gateway HTTP API handler, as `sam init` writes one.
export const handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    message: `${process.env.GREETING} from ${event.rawPath}`,
    stage: process.env.STAGE,
    region: process.env.REGION_NAME,
  }),
});
