/**
 * A plain function: `input` is the request body as a string, `environment` holds this function's
 * variables plus method, path, query, headers and invocationId. Setting `environment.code`
 * chooses the status (200 by default); the returned string, bytes or object is the response.
 */
export function lambda(input, environment) {
  const name = input.trim();
  if (name === '') {
    environment.code = 400;
    return { error: 'send a name in the request body, e.g. curl -d Ada ...' };
  }
  return `Hello, ${name}!`;
}
