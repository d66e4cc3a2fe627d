import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GIT_ENV } from './repo.js';

export const BIN = fileURLToPath(new URL('../../bin/winnow.js', import.meta.url));
const execFileP = promisify(execFile);

export type LogLine = { msg: string; level: string; [k: string]: unknown };

/** Who runs a process: a test user from test/helpers/user.ts (structural, to keep imports one way). */
export interface RunAs {
  wrap(argv: string[]): string[];
  env: NodeJS.ProcessEnv;
}

/**
 * The built `winnow start` as a child process, with its JSON log lines (stderr) readable as
 * events: `waitFor(pred)` registers the awaiter before the caller acts (STYLE.md habit 9).
 */
export class DaemonProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly stderrText: string[] = [];
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void; reject: (e: Error) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(root: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, opts: { as?: RunAs } = {}) {
    const [cmd, ...argv] = opts.as ? opts.as.wrap([process.execPath, BIN, 'start', root, ...args]) : [process.execPath, BIN, 'start', root, ...args];
    this.child = spawn(cmd!, argv, {
      cwd: root,
      env: { ...(opts.as ? opts.as.env : GIT_ENV), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const rl = createInterface({ input: this.child.stderr! });
    rl.on('line', (text) => {
      this.stderrText.push(text);
      let l: LogLine;
      try {
        l = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      this.lines.push(l);
      for (const w of [...this.waiters]) {
        if (w.pred(l)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        const err = new Error(`daemon exited (code ${code}, signal ${signal}) while awaited; stderr:\n${this.stderrText.slice(-20).join('\n')}`);
        // Let readline deliver the last lines first.
        setImmediate(() => {
          for (const w of this.waiters.splice(0)) w.reject(err);
        });
        resolve({ code, signal });
      });
    });
  }

  /** Resolves with the first line (already seen or future) matching `pred`. */
  waitFor(pred: (l: LogLine) => boolean, opts: { fromIndex?: number } = {}): Promise<LogLine> {
    const seen = this.lines.slice(opts.fromIndex ?? 0).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => this.waiters.push({ pred, resolve, reject }));
  }

  /** Resolves with the next future line matching `pred` (ignores what was already seen). */
  next(pred: (l: LogLine) => boolean): Promise<LogLine> {
    return this.waitFor(pred, { fromIndex: this.lines.length });
  }

  ready(): Promise<LogLine> {
    return this.waitFor((l) => l.msg === 'ready');
  }

  /** The first commit (already seen or future) whose paths include `path`; for a later one, `next()`. */
  commitOf(path: string): Promise<LogLine> {
    return this.waitFor((l) => l.msg === 'commit' && Array.isArray(l.paths) && (l.paths as string[]).includes(path));
  }

  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Runs the built CLI once; never throws on a non-zero exit. */
export async function winnow(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, opts: { as?: RunAs } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const [cmd, ...argv] = opts.as ? opts.as.wrap([process.execPath, BIN, ...args]) : [process.execPath, BIN, ...args];
    const { stdout, stderr } = await execFileP(cmd!, argv, { cwd, env: { ...(opts.as ? opts.as.env : GIT_ENV), ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** Fast settings for tests: short settle, no rate pressure, no periodic rescans. */
export function fastConfig(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    debounce: { defaultMs: 200, rules: [], maxMs: 2_000, maxWaitMs: 5_000 },
    rateLimit: { maxPerHour: 1_000, maxPerDay: 10_000 },
    rescanMs: 0,
    autonomous: { fanotify: 'off', trace: 'off' },
    ...extra,
  });
}

/** `winnow status ROOT --json`, parsed; throws on a non-zero exit. */
export async function status(root: string): Promise<Record<string, any>> {
  const r = await winnow(['status', root, '--json'], root);
  if (r.code !== 0) throw new Error(`winnow status exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, any>;
}

/**
 * Polls `status --json` until `pred` holds. Last resort for states with no log line; the bound is
 * generous and its expiry reports the last status seen.
 */
export async function statusUntil(root: string, pred: (s: Record<string, any>) => boolean, what: string, maxMs = 60_000): Promise<Record<string, any>> {
  const end = Date.now() + maxMs;
  let last: Record<string, any> = {};
  for (;;) {
    last = await status(root).catch((e: Error) => ({ error: e.message }));
    if (pred(last)) return last;
    if (Date.now() > end) throw new Error(`status never showed ${what}; last status: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
