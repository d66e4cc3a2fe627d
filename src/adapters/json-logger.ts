import { renameSync, fstatSync, openSync, closeSync, writeSync } from 'node:fs';
import type { Logger, LogLevel } from '../ports/index.js';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const ROTATE_BYTES = 5 * 1024 * 1024;
/** Lines held before they are written at once (a storm's decisions arrive thousands per tick). */
const BUFFER_BYTES = 64 * 1024;

export interface JsonLoggerOptions {
  /** Log file (JSON lines, mode 0600), rotated to `<file>.1` at 5 MB. */
  file?: string;
  /** Also write the lines here (the foreground daemon writes to stderr): one or more whole lines per call. */
  echo?: (lines: string) => void;
  level?: LogLevel;
  now?: () => number;
}

/** Loggers with lines not yet written: written when the process exits, whatever the reason. */
const unwritten = new Set<() => void>();
let exitHook = false;

/**
 * JSON-lines logger: one object per line, `{"t","level","msg",...fields}`. Lines are written once
 * per event-loop turn (or every 64 KiB), warnings and errors at once: a storm of 20k decisions cost
 * 20k write(2) calls to the file and as many to stderr, ~0.9 s of the event loop under load (a CPU
 * profile of the event-storm scenario), now a few dozen.
 */
export function createJsonLogger(opts: JsonLoggerOptions): Logger & { readonly file?: string } {
  const min = RANK[opts.level ?? 'info'];
  const now = opts.now ?? Date.now;
  // One descriptor held open in append mode, not an open/append/close per line.
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
  let pending: string[] = [];
  let pendingBytes = 0;
  let scheduled = false;
  const write = (text: string) => {
    if (!opts.file || fd === null) return;
    try {
      if (written + text.length > ROTATE_BYTES) {
        closeSync(fd);
        fd = null;
        renameSync(opts.file, `${opts.file}.1`);
        openLog();
      }
      if (fd !== null) written += writeSync(fd, text);
    } catch {
      // A log that cannot be written must never stop commits; the echo still shows it.
    }
  };
  const flush = (): void => {
    scheduled = false;
    unwritten.delete(flush);
    if (!pending.length) return;
    const text = pending.join('');
    pending = [];
    pendingBytes = 0;
    write(text);
    opts.echo?.(text);
  };
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const f of [...unwritten]) f();
    });
  }
  return {
    file: opts.file,
    log(level, msg, fields) {
      if (RANK[level] < min) return;
      const line = JSON.stringify({ t: new Date(now()).toISOString(), level, msg, ...fields }) + '\n';
      pending.push(line);
      pendingBytes += line.length;
      unwritten.add(flush);
      if (RANK[level] >= RANK.warn || pendingBytes >= BUFFER_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
}

export const nullLogger: Logger = { log() {} };
