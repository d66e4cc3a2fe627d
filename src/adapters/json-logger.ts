import { appendFileSync, renameSync, statSync, openSync, closeSync } from 'node:fs';
import type { Logger, LogLevel } from '../ports/index.js';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const ROTATE_BYTES = 5 * 1024 * 1024;

export interface JsonLoggerOptions {
  /** Log file (JSON lines, mode 0600), rotated to `<file>.1` at 5 MB. */
  file?: string;
  /** Also write each line here (the foreground daemon writes to stderr). */
  echo?: (line: string) => void;
  level?: LogLevel;
  now?: () => number;
}

/** JSON-lines logger: one object per line, `{"t","level","msg",...fields}`. */
export function createJsonLogger(opts: JsonLoggerOptions): Logger & { readonly file?: string } {
  const min = RANK[opts.level ?? 'info'];
  const now = opts.now ?? Date.now;
  let written = 0;
  if (opts.file) {
    try {
      written = statSync(opts.file).size;
    } catch {
      closeSync(openSync(opts.file, 'a', 0o600));
    }
  }
  return {
    file: opts.file,
    log(level, msg, fields) {
      if (RANK[level] < min) return;
      const line = JSON.stringify({ t: new Date(now()).toISOString(), level, msg, ...fields }) + '\n';
      if (opts.file) {
        try {
          if (written + line.length > ROTATE_BYTES) {
            renameSync(opts.file, `${opts.file}.1`);
            written = 0;
          }
          appendFileSync(opts.file, line, { mode: 0o600 });
          written += line.length;
        } catch {
          // A log that cannot be written must never stop commits; the echo still shows it.
        }
      }
      opts.echo?.(line);
    },
  };
}

export const nullLogger: Logger = { log() {} };
