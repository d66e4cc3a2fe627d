/**
 * One long-lived git process spoken to over stdin and stdout, for the commands a commit needs that
 * answer per request: `mktree --batch` (one id per tree) and `diff-tree --stdin` (the line counts
 * of the message body). In the daemon a spawn costs 15–50 ms of the event loop (fork of a ~100 MB
 * process, measured under load), on the path from a save to its commit; a request here costs a
 * pipe round trip. Requests run one at a time; a process that dies or does not answer in time is
 * killed, its request fails with a GitError, and the next request starts a new one. It is also
 * started anew every REQUESTS_MAX requests, so what git keeps per object parsed stays bounded.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { GitError, KILL_GRACE_MS, awaitAnswer } from './git-spawn.js';

const REQUESTS_MAX = 1_000;

/** Where the answer to a request ends in what git printed (exclusive), or -1 while it is incomplete. */
export type AnswerEnd = (out: Buffer) => number;

interface Waiting {
  end: AnswerEnd;
  resolve(b: Buffer): void;
  reject(e: Error): void;
}

export class GitSession {
  private proc: ChildProcessWithoutNullStreams | null = null;
  private out: Buffer = Buffer.alloc(0);
  private err = '';
  private waiting: Waiting | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private served = 0;

  constructor(
    private readonly args: string[],
    private readonly opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
  ) {}

  /** Writes `input` and resolves with the answer, which `end` finds in what git prints. */
  ask(input: string | Buffer, end: AnswerEnd): Promise<Buffer> {
    const p = this.queue.then(() => this.once(input, end));
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Starts the process now, if it is not running, so the first request does not wait for it. */
  warm(): void {
    if (!this.proc) this.start();
  }

  private once(input: string | Buffer, end: AnswerEnd): Promise<Buffer> {
    if (this.served >= REQUESTS_MAX) this.stop();
    const proc = this.proc ?? this.start();
    this.served++;
    return new Promise<Buffer>((resolve, reject) => {
      const expired = () => {
        this.waiting = null;
        this.stop();
        return new GitError(this.args, null, this.err, true);
      };
      this.waiting = { end, ...awaitAnswer(this.opts.timeoutMs, expired, { resolve, reject }) };
      proc.stdin.write(input);
      this.pump();
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    const proc = spawn('git', this.args, { cwd: this.opts.cwd, env: this.opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = proc;
    this.out = Buffer.alloc(0);
    this.err = '';
    this.served = 0;
    proc.stdout.on('data', (b: Buffer) => {
      if (this.proc !== proc) return;
      this.out = this.out.length ? Buffer.concat([this.out, b]) : b;
      this.pump();
    });
    proc.stderr.on('data', (b: Buffer) => {
      if (this.proc === proc && this.err.length < 4096) this.err += b.toString('utf8');
    });
    proc.stdin.on('error', () => undefined);
    const gone = (code: number | null, why?: string) => {
      if (this.proc !== proc) return;
      this.proc = null;
      const w = this.waiting;
      this.waiting = null;
      w?.reject(new GitError(this.args, code, why ?? this.err, false));
    };
    proc.on('error', (e) => gone(null, e.message));
    proc.on('close', (code) => gone(code));
    return proc;
  }

  private pump(): void {
    const w = this.waiting;
    if (!w) return;
    const n = w.end(this.out);
    if (n < 0) return;
    const answer = this.out.subarray(0, n);
    this.out = this.out.subarray(n);
    this.waiting = null;
    w.resolve(answer);
  }

  private stop(): void {
    const proc = this.proc;
    this.proc = null;
    if (!proc) return;
    proc.stdin.end();
    setTimeout(() => proc.kill('SIGKILL'), KILL_GRACE_MS).unref();
  }

  async close(): Promise<void> {
    const proc = this.proc;
    this.stop();
    if (proc && proc.exitCode === null) await new Promise<void>((resolve) => proc.once('close', () => resolve()));
  }
}

/** The end of `count` newline-terminated lines (mktree prints one tree id per tree). */
export function afterLines(count: number): AnswerEnd {
  return (out) => {
    let at = 0;
    for (let i = 0; i < count; i++) {
      const nl = out.indexOf(0x0a, at);
      if (nl < 0) return -1;
      at = nl + 1;
    }
    return at;
  };
}

/**
 * The end of `marker` (a line git echoes back unchanged, like diff-tree --stdin does with a line
 * that is not an object id), found only at the start of the output or after a record's end (a
 * newline or NUL), so a path that holds the text cannot end the answer early.
 */
export function afterMarker(marker: string): AnswerEnd {
  const m = Buffer.from(marker);
  return (out) => {
    for (let i = out.indexOf(m); i >= 0; i = out.indexOf(m, i + 1)) {
      if (i === 0 || out[i - 1] === 0x0a || out[i - 1] === 0) return i + m.length;
    }
    return -1;
  };
}
