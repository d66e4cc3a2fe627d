import { renameSync, fstatSync, openSync, closeSync, writeSync } from 'node:fs';
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
  // One descriptor held open in append mode: a storm of 20k decisions is 20k write(2) calls, not
  // 20k open/append/close round trips.
  let fd: number | null = null;
  let written = 0;
  const openLog = () => {
    if (!opts.file) return;
    try {
      fd = openSync(opts.file, 'a', 0o600);
      written = fstatSync(fd).size;
    } catch {
      fd = null;
    }
  };
  openLog();
  return {
    file: opts.file,
    log(level, msg, fields) {
      if (RANK[level] < min) return;
      const line = JSON.stringify({ t: new Date(now()).toISOString(), level, msg, ...fields }) + '\n';
      if (opts.file && fd !== null) {
        try {
          if (written + line.length > ROTATE_BYTES) {
            closeSync(fd);
            fd = null;
            renameSync(opts.file, `${opts.file}.1`);
            openLog();
          }
          if (fd !== null) written += writeSync(fd, line);
        } catch {
          // A log that cannot be written must never stop commits; the echo still shows it.
        }
      }
      opts.echo?.(line);
    },
  };
}

export const nullLogger: Logger = { log() {} };
