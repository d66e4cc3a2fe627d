import { spawn } from 'node:child_process';

/** A git call that failed; `timedOut` when it was killed for running too long. */
export class SyncGitError extends Error {
  override name = 'SyncGitError';
  constructor(
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly timedOut: boolean,
  ) {
    super(`git ${args.filter((a) => !a.startsWith('-c')).slice(0, 3).join(' ')} ${timedOut ? 'timed out' : `failed (${code})`}: ${firstLines(stderr)}`);
  }
}

function firstLines(s: string): string {
  return s.trim().split('\n').filter(Boolean).slice(-3).join(' / ') || 'no message';
}

export interface GitCall {
  cwd?: string;
  env?: Record<string, string>;
  /** Bytes for stdin. */
  input?: string | Buffer;
  timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
}

export interface GitOut {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs git; the syncer's one way to reach git (tests pass a wrapper that records or fails). */
export type GitRunner = (args: string[], call?: GitCall) => Promise<GitOut>;

/**
 * Environment that makes git fail instead of waiting for a person: no terminal prompts, no
 * credential-manager dialogs, no pager, C locale so messages classify the same everywhere.
 */
export const NON_INTERACTIVE_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GCM_INTERACTIVE: 'never',
  GIT_PAGER: 'cat',
  LC_ALL: 'C',
  GIT_EDITOR: 'true',
  GIT_SEQUENCE_EDITOR: 'true',
  GIT_MERGE_AUTOEDIT: 'no',
};

/**
 * A GitRunner spawning the real git in `root`: non-interactive, killed (SIGKILL, whole process
 * group is not needed: git's children exit with their parent's pipes) after `timeoutMs`.
 */
export function spawnGitRunner(root: string, defaultTimeoutMs: number, baseEnv: NodeJS.ProcessEnv = process.env): GitRunner {
  return (args, call = {}) =>
    new Promise<GitOut>((resolvePromise, reject) => {
      const child = spawn('git', args, {
        cwd: call.cwd ?? root,
        env: { ...baseEnv, ...NON_INTERACTIVE_ENV, ...call.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, call.timeoutMs ?? defaultTimeoutMs);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.stdin.on('error', () => undefined);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const res: GitOut = { code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
        if ((res.code !== 0 || timedOut) && !call.allowFail) reject(new SyncGitError(args, code, res.stderr, timedOut));
        else if (timedOut) reject(new SyncGitError(args, code, res.stderr, true));
        else resolvePromise(res);
      });
      child.stdin.end(call.input ?? '');
    });
}

/** stdout as trimmed text. */
export async function gitText(git: GitRunner, args: string[], call?: GitCall): Promise<string> {
  return (await git(args, call)).stdout.toString('utf8').trim();
}
