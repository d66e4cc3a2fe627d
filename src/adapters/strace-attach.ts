/**
 * The daemon's attachers (SPEC "Layer 2", rung 2): one `strace -f -p PID…` per attach call, for
 * running processes of the autonomous set where ptrace is permitted (no Yama or `ptrace_scope`
 * 0, same user, or root). Each traced write goes to `onWrite` (the store in strace.ts). Stopping
 * an attacher detaches it and lets the tracees run on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Clock, Logger } from '../ports/index.js';
import { createStraceParser, straceArgs, type TracedWrite } from './strace-parse.js';
import { alive, findStrace, openFifo, procCwd, tracerOf } from './strace-proc.js';

export interface AttachResult {
  /** PIDs now traced by an attacher of this store. */
  attached: number[];
  /** Why attaching failed, when it did. */
  error?: string;
}

/** How long an attacher may take to report that it is tracing before it is counted as failed. */
const ATTACH_WAIT_MS = 2_000;

export interface AttacherDeps {
  /** The trace directory (`<stateDir>/trace`): the attachers' FIFOs live there. */
  dir: string;
  clock: Clock;
  logger: Logger;
  /** The strace binary (default: `strace` on PATH). */
  bin?: string;
  /** A write a traced process made. */
  onWrite(w: TracedWrite): void;
}

export class StraceAttachers {
  /** strace processes by PID. */
  private readonly attachers = new Map<number, ChildProcess>();
  private readonly attachedAtMs = new Map<number, number>();
  private stopped = false;
  private seq = 0;

  constructor(private readonly deps: AttacherDeps) {}

  /** Whether `pid` is one of these attachers. */
  isOurTracer(pid: number): boolean {
    return this.attachers.has(pid);
  }

  /** When `pid` became traced by one of these attachers (epoch ms), or undefined. */
  attachedAt(pid: number): number | undefined {
    return this.attachedAtMs.get(pid);
  }

  /** Attaches to `pids` (one strace for them all, following their future children). */
  async attach(pids: number[]): Promise<AttachResult> {
    if (this.stopped || !pids.length) return { attached: [] };
    const bin = findStrace(this.deps.bin);
    if (!bin) return { attached: [], error: 'strace is not installed (apt install strace)' };
    await mkdir(this.deps.dir, { recursive: true, mode: 0o700 }).catch(() => undefined);
    // The trace goes through a FIFO (`-o`): on stderr strace would print `[pid N]` prefixes, and
    // none at all for the first process, instead of the `PID  ` column of `-o` output.
    const fifo = join(this.deps.dir, `attach-${process.pid}-${++this.seq}.fifo`);
    const input = openFifo(fifo);
    if (!input) return { attached: [], error: `cannot make a FIFO in ${this.deps.dir}` };
    const c = spawn(bin, [...straceArgs(fifo, { seccomp: false }), ...pids.flatMap((p) => ['-p', String(p)])], { stdio: ['ignore', 'ignore', 'pipe'] });
    const parse = createStraceParser(procCwd);
    let stderr = '';
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (d: string) => {
      stderr = (stderr + d).slice(-2000);
    });
    createInterface({ input, crlfDelay: Infinity }).on('line', (line) => {
      const w = parse(line);
      if (w) this.deps.onWrite(w);
    });
    c.once('exit', () => rmSync(fifo, { force: true }));
    c.once('error', () => {
      input.destroy();
      rmSync(fifo, { force: true });
    });
    const exited = new Promise<string>((resolve) => {
      c.once('error', (e) => resolve(e.message));
      c.once('exit', (code, sig) => resolve(`strace exited (${sig ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
    });
    void exited.then(() => {
      if (c.pid !== undefined) this.attachers.delete(c.pid);
    });
    if (c.pid === undefined) return { attached: [], error: await exited };
    this.attachers.set(c.pid, c);
    // Attached once the kernel says so (TracerPid), so a write right after this is traced.
    const deadline = Date.now() + ATTACH_WAIT_MS;
    let early: string | null = null;
    void exited.then((why) => {
      early = why;
    });
    const done = new Set<number>();
    while (early === null && Date.now() < deadline) {
      for (const p of pids) if (!done.has(p) && tracerOf(p) === c.pid) done.add(p);
      if (done.size === pids.filter((p) => alive(p)).length && done.size > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const now = this.deps.clock.now();
    for (const p of done) this.attachedAtMs.set(p, now);
    if (!done.size) {
      c.kill('SIGTERM');
      return { attached: [], error: early ?? `strace did not attach within ${ATTACH_WAIT_MS} ms${stderr ? `: ${stderr.trim()}` : ''}` };
    }
    this.deps.logger.log('info', 'tracing autonomous processes', { pids: [...done], tracer: c.pid });
    return { attached: [...done] };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(
      [...this.attachers.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM'); // strace detaches and lets the tracees run on
          }),
      ),
    );
    this.attachers.clear();
  }
}
