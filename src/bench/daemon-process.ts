/**
 * winnow as the benchmark runs it: `winnow start` through its real CLI as a child process with
 * awaitable JSON log lines, its CPU and memory from /proc, `winnow status --json`, and the
 * sessions of one scenario (a restart starts another), with their CPU time summed.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { gitEnv } from './workspace.js';
import { DAEMON_NODE_FLAGS } from '../cli/daemon-flags.js';

const execFileP = promisify(execFile);
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

export type LogLine = { msg: string; [k: string]: unknown };

/** `winnow start` as a child process with awaitable JSON log lines (stderr). */
export class Daemon {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly tail: string[] = [];
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine | null) => void }[] = [];
  readonly exited: Promise<number | null>;
  readonly spawnedAt = Date.now();

  constructor(bin: string, root: string, configFile: string, env: NodeJS.ProcessEnv) {
    // The daemon's own flags, as `winnow start` has them; WINNOW_BENCH_NODE_FLAGS adds node/V8
    // flags for the daemon only (e.g. --lite-mode), to measure them before adopting any.
    const flags = [...DAEMON_NODE_FLAGS, ...(process.env.WINNOW_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
    this.child = spawn(process.execPath, [...flags, bin, 'start', root, '--config', configFile], {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    createInterface({ input: this.child.stderr! }).on('line', (text) => {
      this.tail.push(text);
      if (this.tail.length > 30) this.tail.shift();
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
      this.child.once('exit', (code) => {
        // Let readline hand over the last lines before waiters learn the process is gone.
        setImmediate(() => {
          for (const w of this.waiters.splice(0)) w.resolve(null);
          resolve(code);
        });
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first line (seen or future) matching `pred`; null if the process exits or the bound passes. */
  waitFor(pred: (l: LogLine) => boolean, boundMs: number, fromIndex = 0): Promise<LogLine | null> {
    const seen = this.lines.slice(fromIndex).find(pred);
    if (seen) return Promise.resolve(seen);
    if (!this.running) return Promise.resolve(null);
    return new Promise((resolve) => {
      const w = { pred, resolve: (l: LogLine | null) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        resolve(null);
      }, boundMs);
      this.waiters.push(w);
    });
  }

  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.running && this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** utime+stime ticks, peak and current RSS of a process from /proc; null off Linux or once it is gone. */
export async function procSample(pid: number): Promise<{ ticks: number; hwmKb: number; rssKb: number } | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+)/.exec(status);
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    return { ticks, hwmKb: hwm ? Number(hwm[1]) : 0, rssKb: rss ? Number(rss[1]) : 0 };
  } catch {
    return null;
  }
}

let clkTck: number | null = null;
export async function clockTicks(): Promise<number> {
  if (clkTck !== null) return clkTck;
  try {
    clkTck = Number((await execFileP('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  } catch {
    clkTck = 100; // USER_HZ is 100 on every mainstream Linux build
  }
  return clkTck;
}

/** `winnow status --json` through the real CLI. */
export async function status(bin: string, root: string): Promise<{ idle?: boolean; pending?: unknown[]; waiting?: unknown } | null> {
  try {
    const { stdout } = await execFileP(process.execPath, [bin, 'status', root, '--json'], { cwd: root, env: gitEnv(), timeout: 30_000 });
    return JSON.parse(stdout) as { idle?: boolean; pending?: unknown[] };
  } catch {
    return null;
  }
}

/** The daemons of one scenario, one at a time; CPU ticks and peak RSS summed over them from ready to stop. */
export class DaemonSessions {
  readonly all: Daemon[] = [];
  readonly cpu = { ticks: 0, wallMs: 0, hwmKb: 0, measured: true };
  current: { d: Daemon; readyAt: number; ticks0: number | null } | null = null;
  /** ms from spawning the first `winnow start` to its ready line. */
  readyMs: number | null = null;

  constructor(
    private readonly spawnDaemon: () => Daemon,
    private readonly notes: string[],
  ) {}

  /** Starts winnow and waits for its ready line. */
  async start(): Promise<void> {
    const d = this.spawnDaemon();
    this.all.push(d);
    const ready = await d.waitFor((l) => l.msg === 'ready', READY_TIMEOUT_MS);
    if (!ready) {
      await d.stop();
      throw new Error(`winnow did not become ready (${d.running ? 'no "ready" line' : 'it exited'}); its last output:\n${d.tail.slice(-8).join('\n')}`);
    }
    const pid = typeof ready.pid === 'number' ? ready.pid : d.child.pid!;
    const sample = await procSample(pid);
    this.current = { d, readyAt: Date.now(), ticks0: sample?.ticks ?? null };
    this.readyMs ??= this.current.readyAt - d.spawnedAt;
  }

  /** Stops the running one (SIGTERM), adding its CPU time. */
  async stop(): Promise<void> {
    const { current, cpu } = this;
    if (!current) return;
    const { d, readyAt, ticks0 } = current;
    const sample = await procSample(d.child.pid!);
    if (sample && ticks0 !== null) {
      cpu.ticks += sample.ticks - ticks0;
      cpu.wallMs += Date.now() - readyAt;
      cpu.hwmKb = Math.max(cpu.hwmKb, sample.hwmKb);
    } else cpu.measured = false;
    const code = await d.stop();
    if (code !== 0) this.notes.push(`winnow exited with code ${code} on SIGTERM.`);
    this.current = null;
  }

  /** Stops whatever still runs (after a failure). */
  async stopAll(): Promise<void> {
    for (const dm of this.all) if (dm.running) await dm.stop();
  }
}
