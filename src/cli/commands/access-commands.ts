/** The access-control commands, in the order `kumo --help` lists them. */
import type { Command } from '../command.ts';
import { auditCommand } from './audit.ts';
import { keysCommand } from './keys.ts';
import { loginCommand, logoutCommand } from './login.ts';
import { secretsCommand } from './secrets.ts';

/** keys, secrets, audit, login, logout. */
export const ACCESS_COMMANDS: readonly Command[] = [
  keysCommand,
  secretsCommand,
  auditCommand,
  loginCommand,
  logoutCommand,
];
