/**
 * An AWS Lambda handler: `event` is an API Gateway HTTP API (payload 2.0) event and the result
 * `{ statusCode, headers, body }` becomes the response, as behind API Gateway.
 */
export const handler = async (event, context) => {
  const name = event.queryStringParameters?.name ?? nameFromBody(event) ?? 'World';
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: `Hello, ${name}!`, requestId: context.awsRequestId }),
  };
};

/** The `name` of a JSON body, if the body is JSON and has one. */
function nameFromBody(event) {
  if (!event.body || event.isBase64Encoded) return undefined;
  try {
    return JSON.parse(event.body).name;
  } catch {
    return undefined; // not JSON: no name
  }
}
