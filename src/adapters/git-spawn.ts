/**
 * The one spawner of git: every git command winnow runs (the `Git` port's calls, the sync, the
 * history commands, `status`, `doctor`, workspace resolution) goes through `spawnGit`, so each has
 * the same environment, the same timeout and the same error.
 *
 * Every call: a timeout (SIGTERM to git's whole process group, then SIGKILL), no variables that
 * would point git at another repository or index, no prompt or editor that would wait for a
 * person, `LC_ALL=C` (messages classify the same everywhere), `GIT_LITERAL_PATHSPECS=1`;
 * read-only calls add `GIT_OPTIONAL_LOCKS=0` so they never take `index.lock` from the person's git.
 */
import { existsSync } from 'node:fs';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { GitCall, GitOut, GitRunner } from '../ports/index.js';

/** A git command that ran and failed, or did not finish in time. */
export class GitError extends Error {
  override name = 'GitError';
  constructor(
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly timedOut: boolean,
    /** What git printed on stdout (its tail): `commit` says "nothing to commit" there, not on stderr. */
    readonly stdout = '',
    /** git itself could not be started (not on PATH). */
    readonly notFound = false,
  ) {
    super(
      timedOut
        ? `git ${commandWords(args)} did not finish in time and was stopped.`
        : `git ${commandWords(args)} failed (exit ${code}): ${firstLines(stderr)}`,
    );
  }
}

/** The subcommand and its first words, without `-c key=value` pairs. */
function commandWords(args: readonly string[]): string {
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 3; i++) {
    if (args[i] === '-c') i++;
    else words.push(args[i]!);
  }
  return words.join(' ');
}

function firstLines(s: string): string {
  const t = s.trim().split('\n').slice(0, 3).join(' ');
  return t || '(no message)';
}

/**
 * A long-lived git's request (cat-file, mktree, diff-tree): its answer, or after `ms` the
 * rejection `expired` builds (it also stops the wedged process; the next request starts a new one).
 */
export function awaitAnswer<T>(
  ms: number,
  expired: () => Error,
  settle: { resolve(v: T): void; reject(e: Error): void },
): { resolve(v: T): void; reject(e: Error): void } {
  const timer = setTimeout(() => settle.reject(expired()), ms);
  return {
    resolve: (v) => {
      clearTimeout(timer);
      settle.resolve(v);
    },
    reject: (e) => {
      clearTimeout(timer);
      settle.reject(e);
    },
  };
}

/** After SIGTERM (git removes its lock files on SIGTERM), SIGKILL if it is still there. */
export const KILL_GRACE_MS = 2_000;

/** Variables set when winnow runs inside a git hook (or by a wrapper): they would point git at another repo or index. */
const REDIRECTING = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_PREFIX', 'GIT_OBJECT_DIRECTORY'];

/**
 * Makes git fail instead of waiting for a person: no terminal prompts, no credential-manager
 * dialogs, no pager, no editor.
 */
const NON_INTERACTIVE: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GCM_INTERACTIVE: 'never',
  GIT_PAGER: 'cat',
  GIT_EDITOR: 'true',
  GIT_SEQUENCE_EDITOR: 'true',
  GIT_MERGE_AUTOEDIT: 'no',
};

/** The environment every git call starts from: `inherited` minus redirecting variables, non-interactive. */
export function gitEnv(inherited: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...inherited };
  for (const k of REDIRECTING) delete env[k];
  Object.assign(env, NON_INTERACTIVE);
  env.LC_ALL = 'C';
  env.GIT_LITERAL_PATHSPECS = '1';
  return env;
}

export interface SpawnOptions extends GitCall {
  /** Directory git runs in. */
  cwd: string;
  /** Base environment (from `gitEnv`); `env` and `readOnly` add to it. */
  baseEnv: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/**
 * Runs `git args`. Resolves on exit 0 (or a code in `okCodes`, or any code with `allowFail`);
 * otherwise rejects with a GitError, as it does on a timeout whatever `allowFail` says.
 */
export function spawnGit(args: string[], o: SpawnOptions): Promise<GitOut> {
  return new Promise((resolve, reject) => {
    let env = o.baseEnv;
    if (o.readOnly || o.env) {
      env = { ...env, ...(o.readOnly ? { GIT_OPTIONAL_LOCKS: '0' } : {}), ...o.env };
      for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    }
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn('git', args, {
        cwd: o.cwd,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        // Own process group, so a timeout also stops what git started (hooks, ssh, helpers).
        detached: process.platform !== 'win32',
      });
    } catch (e) {
      reject(new GitError(args, null, (e as Error).message, false));
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid && process.platform !== 'win32') process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        // Already gone.
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const armTimeout = () => {
      if (settled) return;
      timer = setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
        killTimer.unref();
      }, o.timeoutMs);
    };
    // A command started ahead of its input (commit/prestart.ts) waits for it on its own time: its
    // timeout counts from when the input is given.
    if (!(o.input instanceof Promise)) armTimeout();
    const finish = (code: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      const stderr = Buffer.concat(err).toString('utf8');
      const stdout = Buffer.concat(out);
      const answer = !timedOut && code !== null && (code === 0 || o.allowFail || o.okCodes?.includes(code));
      if (answer) resolve({ code, stdout, stderr });
      else reject(new GitError(args, code, stderr, timedOut, stdout.subarray(-4096).toString('utf8')));
    };
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // git may exit before reading all of stdin (an early fatal): that EPIPE is not the failure to report.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      // spawn says ENOENT for a missing working directory too: only a cwd that exists means git is missing.
      const enoent = (e as NodeJS.ErrnoException).code === 'ENOENT';
      const cwdGone = enoent && !existsSync(o.cwd);
      const notFound = enoent && !cwdGone;
      const why = cwdGone ? `cannot run git in ${o.cwd}: the directory does not exist` : notFound ? 'git was not found on PATH. Install git 2.25 or newer.' : e.message;
      reject(new GitError(args, null, why, false, '', notFound));
    });
    // After a timeout, do not wait for pipes a surviving grandchild may still hold open.
    child.on('exit', (code) => {
      if (timedOut) finish(code);
    });
    child.on('close', (code) => finish(code));
    if (o.input instanceof Promise) {
      const give = (b?: string | Buffer) => {
        armTimeout();
        child.stdin.end(b);
      };
      o.input.then(give, () => give());
    } else if (o.input !== undefined) child.stdin.end(o.input);
    else child.stdin.end();
  });
}

/**
 * A `GitRunner` for the work tree (or directory) `root`: the raw calls of the sync, the history
 * commands and the CLI. `env` replaces the inherited environment (tests pass a fixed identity).
 *
 * @example
 *   const git = createGitRunner('/repo', { timeoutMs: 120_000 });
 *   const head = (await git(['rev-parse', 'HEAD'], { readOnly: true })).stdout.toString().trim();
 */
export function createGitRunner(root: string, opts: { timeoutMs: number; env?: NodeJS.ProcessEnv }): GitRunner {
  const baseEnv = gitEnv(opts.env);
  return (args, call = {}) => spawnGit(args, { ...call, cwd: call.cwd ?? root, baseEnv, timeoutMs: call.timeoutMs ?? opts.timeoutMs });
}
