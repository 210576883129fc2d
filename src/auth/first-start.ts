/**
 * The first start of a server: with no API key at all, nobody could use the control plane, so
 * kumo makes an admin key and leaves it in a file only the owner can read, in the data directory,
 * where the CLI on the same machine looks for it (README "Access control").
 */
import path from 'node:path';
import type { ServerLog } from '../core/index.ts';
import type { KeyRing } from './key-ring.ts';
import { writeOwnerOnlyFile } from './owner-file.ts';

/** The name of the first-start key file in the data directory. */
export const ADMIN_KEY_FILE = 'admin.key';

/** Creates the first admin key when no key exists; returns the key file's path when it did. */
export async function ensureAdminKey(
  keys: KeyRing,
  dataDir: string,
  log: ServerLog,
): Promise<string | undefined> {
  if (!(await keys.isEmpty())) return undefined;
  const file = path.join(dataDir, ADMIN_KEY_FILE);
  const { info, key } = await keys.create('admin', ['admin'], null);
  await writeOwnerOnlyFile(file, `${key}\n`);
  log.info(
    'first start: created an admin API key, readable only by you; the kumo CLI on this machine uses it',
    {
      key: info.id,
      file,
    },
  );
  return file;
}
