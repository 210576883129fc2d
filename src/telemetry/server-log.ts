/** The server's own log: one line per event on stderr, `time level message key=value…`. */
import type { Fields, Level, ServerLog } from '../core/index.ts';

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A ServerLog writing to `out` (stderr by default) at `level` and above. */
export function createServerLog(
  options: { level?: Level; out?: NodeJS.WritableStream; now?: () => number } = {},
): ServerLog {
  const min = ORDER[options.level ?? 'info'];
  const out = options.out ?? process.stderr;
  const now = options.now ?? Date.now;
  const write = (level: Level, message: string, fields?: Fields) => {
    if (ORDER[level] < min) return;
    let line = `${new Date(now()).toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`;
    for (const [k, v] of Object.entries(fields ?? {})) {
      if (v === undefined) continue;
      const text = String(v);
      line += ` ${k}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
    }
    out.write(`${line}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
