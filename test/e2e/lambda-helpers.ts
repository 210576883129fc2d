/** What the Lambda API tests share: AWS credentials of a kumo key, an SDK client, zips. */
import { execFileSync } from 'node:child_process';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { api, type ServerRef } from './harness.ts';

/** The AWS credentials of a new kumo key with `scopes`. */
export async function awsKey(
  server: ServerRef,
  scopes: string[],
): Promise<{ id: string; accessKeyId: string; secretAccessKey: string }> {
  const res = await api(server, '/keys', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scopes, aws: true }),
  });
  const body = (await res.json()) as { id: string; awsAccessKeyId: string; awsSecretAccessKey: string };
  if (res.status !== 201) throw new Error(`key not created: ${res.status} ${JSON.stringify(body)}`);
  return { id: body.id, accessKeyId: body.awsAccessKeyId, secretAccessKey: body.awsSecretAccessKey };
}

/** An unmodified SDK client pointed at the server. */
export function lambdaClient(
  server: { url: string },
  credentials: { accessKeyId: string; secretAccessKey: string },
  maxAttempts = 1,
): LambdaClient {
  return new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts });
}

/**
 * A zip of `files` (name → content), made by python's zipfile as a user's tool would; the names in
 * `executables` get mode 0755 (a custom runtime's `bootstrap`), the others 0644.
 */
export function zipOf(files: Record<string, string>, executables: string[] = []): Uint8Array {
  const script = `
import base64, io, json, sys, zipfile
given = json.loads(sys.stdin.read())
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
    for name, content in given['files'].items():
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = (0o100755 if name in given['executables'] else 0o100644) << 16
        z.writestr(info, content)
sys.stdout.write(base64.b64encode(buf.getvalue()).decode())
`;
  const b64 = execFileSync('python3', ['-c', script], {
    input: JSON.stringify({ files, executables }),
    encoding: 'utf8',
  });
  return new Uint8Array(Buffer.from(b64, 'base64'));
}
