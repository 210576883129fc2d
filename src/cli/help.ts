/** The top-level help of `kumo`, listing every command (including `up`, which the server owns). */
import { COMMON_HELP } from './args.ts';
import type { Command } from './command.ts';

/** The synopsis of `kumo up`, implemented by the server and wired in bin/kumo.js. */
export const UP_SYNOPSIS = 'up [--port 8080] [--data DIR] [--host 127.0.0.1]';

/** The help of `kumo up`, shown when the CLI is asked about it without a server attached. */
export const UP_USAGE = `Usage: kumo ${UP_SYNOPSIS}

Start the kumo server in this process: the API, the functions and the scheduler.

Options:
  --port 8080        port to listen on
  --data DIR         where functions, versions and logs are stored
  --host 127.0.0.1   address to listen on
`;

/** `kumo --help`: what kumo is, then each command's synopsis and summary. */
export function topLevelHelp(commands: readonly Command[]): string {
  const entries = [
    { synopsis: UP_SYNOPSIS, summary: 'start the server (API, functions, scheduler)' },
    {
      synopsis: 'doctor [--json]',
      summary: 'check the isolation this host provides, with the command that fixes each gap',
    },
    ...commands,
    { synopsis: 'help [COMMAND]', summary: 'show this help, or the help of COMMAND' },
  ];
  return `kumo: deploy a folder, get an isolated, warm, versioned HTTP function.

Usage: kumo COMMAND [options]

Commands:
${entries.map((c) => `  ${c.synopsis}\n      ${c.summary}`).join('\n')}

${COMMON_HELP}
  --version     print kumo's version

Every command takes --help. The server is http://127.0.0.1:8080 unless KUMO_URL, --url or
\`kumo login\` say otherwise; start it with \`npm start\` or \`npx kumo up\`. The API key comes
from KUMO_API_KEY, else \`kumo login\`, else (for a local server) ./.kumo/admin.key.
`;
}
