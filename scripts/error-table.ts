/** Prints the README's errors table from the registry: `node scripts/error-table.ts`. */
import { ERROR_CODES } from '../src/core/errors.ts';

console.log('| code | status | meaning |');
console.log('|---|---|---|');
for (const [code, { status, doc }] of Object.entries(ERROR_CODES))
  console.log(`| \`${code}\` | ${status} | ${doc} |`);
