/**
 * `commit.messageCommand` on `sh -c`: the staged diff on stdin, the message on stdout. Its own
 * process group, so a timeout stops whatever it started too (a script calling an LLM's CLI).
 */
import { spawn } from 'node:child_process';
import type { MessageCommand } from '../ports/index.js';

/** What is read of its output: a commit message, not a novel. */
const MAX_OUTPUT = 64 * 1024;

export const runMessageCommand: MessageCommand = (command, input, opts) =>
  new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    const out: Buffer[] = [];
    let size = 0;
    let err = '';
    let done = false;
    const finish = (r: Awaited<ReturnType<MessageCommand>>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      finish({ ok: false, error: `did not finish within ${opts.timeoutMs} ms (commit.messageTimeoutMs)` });
    }, opts.timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      if (size < MAX_OUTPUT) out.push(b);
      size += b.length;
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 4096) err += b.toString('utf8');
    });
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => finish({ ok: false, error: e.message }));
    child.on('close', (code, signal) => {
      if (code === 0) finish({ ok: true, stdout: Buffer.concat(out).subarray(0, MAX_OUTPUT).toString('utf8') });
      else finish({ ok: false, error: `exited with ${code ?? signal}${err.trim() ? `: ${err.trim().split('\n').slice(-2).join(' / ')}` : ''}` });
    });
    child.stdin.end(input);
  });
