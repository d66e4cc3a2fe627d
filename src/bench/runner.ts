/**
 * The benchmark runner: for each scenario, a temp git repo, winnow started through its real CLI
 * as its own process, autonomous writers and a person's editor as real child processes, and a
 * verdict read from git history against the players' ground truth (bench/README.md).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGitRunner } from '../adapters/git.js';
import { computeMetrics, type BenchResult, type CommitRecord, type Metrics, type TruthRecord } from './metrics.js';
import { planPlayers, timelineMs, type HumanPlan, type WriterPlan } from './plan.js';
import { settleMsOf, type Scenario } from './scenario.js';
import { aggregate } from './repeat.js';

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WINNOW_BIN = join(ROOT, 'bin', 'winnow.js');
export const PLAYERS_DIR = join(ROOT, 'bench', 'players');

/** The cookie folder: a write there, seen in the decision log, proves earlier events were seen. */
const COOKIE_DIR = '.bench-cookie';
const READY_TIMEOUT_MS = 60_000;
const BARRIER_TIMEOUT_MS = 15_000;
const BARRIER_TRIES = 5;
const DRAIN_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

export type Phase = 'setup' | 'starting' | 'idle' | 'playing' | 'draining' | 'judging' | 'micro' | 'done';

export interface Progress {
  index: number;
  total: number;
  scenario: string;
  phase: Phase;
  /** Within "playing": ms of the timeline played, and its length. */
  elapsedMs?: number;
  durationMs?: number;
}

export interface Check {
  name: string;
  ok: boolean | null;
  detail: string;
  /** The results-table column this check judges, highlighted in the report when it fails. */
  column?: 'FP' | 'FN' | 'loops' | 'p95' | 'commits';
}

export interface ScenarioRun {
  result: BenchResult;
  detail: Metrics['detail'] & {
    settleMs: number;
    durationMs: number;
    decisions: { ALLOW: number; BLOCK: number; byLayer: Record<string, number> };
    /** ms from spawning `winnow start` to its ready line (the first start). */
    readyMs: number | null;
    checks: Check[];
    notes: string[];
    wallMs: number;
  };
  /** With `--repeat N` (N > 1): `result` holds each figure's median; these are the worst and every run. */
  repeat?: { n: number; worst: BenchResult; runs: BenchResult[] };
}

export interface LayerFigures {
  layers: BenchResult['layers'];
  extra: { l1NsPerPathWarm: number | null; rules: number | null; commitMsSmall: number | null; commitMs50k: number | null };
  notes: string[];
  /** With `--repeat N`: `layers` and `extra` hold medians; these the worst of the N measurements. */
  worst?: { layers: BenchResult['layers']; extra: LayerFigures['extra'] };
}

export interface BenchReport {
  runs: ScenarioRun[];
  failures: { scenario: string; error: string }[];
  layers: LayerFigures;
  host: { cpus: number; node: string; platform: string };
  startedAt: string;
  wallMs: number;
  quick: boolean;
  /** Runs of each scenario and micro-benchmark. */
  repeat: number;
  /** The machine's 1, 5 and 15 minute load averages when the bench ended (other work blurs figures). */
  load: number[];
}

export interface RunOptions {
  quick?: boolean;
  /** Also run the (slow) commit micro-benchmark. */
  commitBench?: boolean;
  /** Skip the per-layer micro-benchmarks (their fields stay null). */
  skipMicro?: boolean;
  onProgress?: (p: Progress) => void;
  /** Keep temp workspaces (their paths go into the notes). */
  keep?: boolean;
  bin?: string;
  /** Overrides every scenario's `autonomous.fanotify` (measure with and without exact attribution). */
  fanotify?: 'auto' | 'on' | 'off';
  /**
   * The evidence rung every agent is on (SPEC "Layer 2"): `fanotify` (fanotify + lineage, tracing
   * off), `trace` (fanotify off; the daemon attaches strace to the agents), `exec` (fanotify off,
   * attaching refused as under Yama ptrace_scope 1; the agents run under `winnow exec`, which
   * traces them), `heuristic` (fanotify and tracing off: open handles and write counters).
   */
  evidence?: Evidence;
  /** Runs of each scenario and micro-benchmark; figures are reported as median and worst (default 1). */
  repeat?: number;
}

export type Evidence = 'fanotify' | 'trace' | 'exec' | 'heuristic';

/** Config overrides and daemon environment for an evidence mode. */
export function evidenceSetup(e: Evidence | undefined): { autonomous: Record<string, string>; env: NodeJS.ProcessEnv; underExec: boolean } {
  switch (e) {
    case 'fanotify':
      return { autonomous: { fanotify: 'on', trace: 'off' }, env: {}, underExec: false };
    case 'trace':
      return { autonomous: { fanotify: 'off', trace: 'on' }, env: {}, underExec: false };
    case 'exec':
      // WINNOW_EXEC_TRACE: `winnow exec` as root traces only when told ("auto" leaves root to fanotify).
      return { autonomous: { fanotify: 'off', trace: 'on' }, env: { WINNOW_PTRACE_ATTACH: '0', WINNOW_EXEC_TRACE: '1' }, underExec: true };
    case 'heuristic':
      return { autonomous: { fanotify: 'off', trace: 'off' }, env: { WINNOW_EXEC_TRACE: '0' }, underExec: false };
    default:
      return { autonomous: {}, env: {}, underExec: false };
  }
}

type LogLine = { msg: string; [k: string]: unknown };

/** `winnow start` as a child process with awaitable JSON log lines (stderr). */
class Daemon {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly tail: string[] = [];
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine | null) => void }[] = [];
  readonly exited: Promise<number | null>;
  readonly spawnedAt = Date.now();

  constructor(bin: string, root: string, configFile: string, env: NodeJS.ProcessEnv) {
    // WINNOW_BENCH_NODE_FLAGS: node/V8 flags for the daemon only (e.g. --lite-mode), to measure
    // them against latency before adopting any.
    const flags = (process.env.WINNOW_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
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
async function procSample(pid: number): Promise<{ ticks: number; hwmKb: number; rssKb: number } | null> {
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
async function clockTicks(): Promise<number> {
  if (clkTck !== null) return clkTck;
  try {
    clkTck = Number((await execFileP('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  } catch {
    clkTck = 100; // USER_HZ is 100 on every mainstream Linux build
  }
  return clkTck;
}

function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_AUTHOR_NAME: 'Bench Person',
    GIT_AUTHOR_EMAIL: 'person@bench.invalid',
    GIT_COMMITTER_NAME: 'Bench Person',
    GIT_COMMITTER_EMAIL: 'person@bench.invalid',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
}

/** The scenario's own git calls (base commit, reading the history back), through the git adapter's runner. */
async function git(root: string, args: string[], input?: string): Promise<string> {
  // The 100k-file base commit takes a while on a loaded machine: a bound, not a budget.
  const run = createGitRunner(root, { timeoutMs: 10 * 60_000, env: gitEnv() });
  // check-ignore refuses the literal pathspec magic the runner sets for every other call.
  const env = args[0] === 'check-ignore' ? { GIT_LITERAL_PATHSPECS: '0' } : undefined;
  return (await run(args, { readOnly: true, ...(input === undefined ? {} : { input }), ...(env ? { env } : {}) })).stdout.toString('utf8');
}

const fileText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2) + '\n');

/** Builds the workspace and commits it as the base; returns the base sha and its blobs. */
async function setupWorkspace(s: Scenario, root: string): Promise<{ base: string; initial: Map<string, string> }> {
  await mkdir(root, { recursive: true });
  await git(root, ['init', '-q', '-b', 'main']);
  await git(root, ['config', 'user.name', 'Bench Person']);
  await git(root, ['config', 'user.email', 'person@bench.invalid']);
  await git(root, ['config', 'commit.gpgsign', 'false']);
  // The base commit of a 100k-file workspace leaves 100k loose objects, and `git gc --auto` would
  // then repack them in the background for minutes while winnow starts and is measured.
  await git(root, ['config', 'gc.auto', '0']);
  const put = async (rel: string, text: string) => {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
  };
  await put('README.md', `# bench workspace: ${s.name}\n`);
  if (s.workspace?.gitignore) await put('.gitignore', s.workspace.gitignore.join('\n') + '\n');
  for (const [rel, v] of Object.entries(s.workspace?.files ?? {})) await put(rel, fileText(v));
  for (const g of s.workspace?.generate ?? []) {
    const body = 'x'.repeat(g.bytes ?? 64);
    // A folder at a time, its files written concurrently: 100k files in seconds, not minutes.
    for (let d = 0; d * 100 < g.count; d++) {
      await mkdir(join(root, g.dir, `d${d}`), { recursive: true });
      const writes: Promise<void>[] = [];
      for (let i = d * 100; i < Math.min(g.count, (d + 1) * 100); i++) writes.push(writeFile(join(root, g.dir, `d${d}`, `f${i}.txt`), `${i} ${body}\n`));
      await Promise.all(writes);
    }
  }
  await git(root, ['add', '-A']);
  await git(root, ['commit', '-q', '--no-verify', '-m', 'bench: base workspace']);
  const base = (await git(root, ['rev-parse', 'HEAD'])).trim();
  const initial = new Map<string, string>();
  for (const rec of (await git(root, ['ls-tree', '-r', '-z', base])).split('\0')) {
    const m = /^\d+ \w+ ([0-9a-f]+)\t(.*)$/s.exec(rec);
    if (m) initial.set(m[2]!, m[1]!);
  }
  return { base, initial };
}

/** Every commit after `base`, with its paths' new blobs (null = deleted). */
async function readHistory(root: string, base: string, atMsBySha: Map<string, number>, notes: string[]): Promise<CommitRecord[]> {
  const shas = (await git(root, ['rev-list', '--reverse', `${base}..HEAD`])).split('\n').filter(Boolean);
  const out: CommitRecord[] = [];
  let fallback = 0;
  for (const sha of shas) {
    const raw = (await git(root, ['diff-tree', '-r', '-z', '--no-renames', '--no-commit-id', '--root', sha])).split('\0');
    const entries: CommitRecord['entries'] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const meta = raw[i]!.split(' ');
      const path = raw[i + 1]!;
      if (!meta[0]?.startsWith(':')) continue;
      entries.push({ path, blob: meta[4]?.startsWith('D') ? null : meta[3]! });
    }
    let atMs = atMsBySha.get(sha) ?? [...atMsBySha].find(([k]) => sha.startsWith(k) || k.startsWith(sha))?.[1];
    if (atMs === undefined) {
      // git's own date has 1 s resolution: only a fallback when the log line is missing.
      atMs = Number((await git(root, ['log', '-1', '--format=%ct', sha])).trim()) * 1000;
      fallback++;
    }
    out.push({ sha, atMs, entries });
  }
  if (fallback) notes.push(`${fallback} commit(s) had no "commit" log line; their time is git's 1 s commit date.`);
  return out;
}

/** Of `paths`, those git ignores (what a commit-everything watcher would not add). */
async function ignoredPaths(root: string, paths: string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  try {
    const out = await git(root, ['check-ignore', '-z', '--stdin'], paths.join('\0') + '\0');
    return new Set(out.split('\0').filter(Boolean));
  } catch (e) {
    // Exit 1: none of them is ignored.
    if ((e as { code?: number }).code === 1) return new Set();
    throw e;
  }
}

interface Player {
  name: string;
  child: ChildProcess;
  truth: TruthRecord[];
  stderr: string[];
  done: Promise<number | null>;
}

function startPlayer(name: string, script: string, planFile: string, detached: boolean, cwd: string, exec?: { bin: string; root: string; env: NodeJS.ProcessEnv }): Player {
  const argv = [join(PLAYERS_DIR, script), planFile];
  // Under `winnow exec` the player is its child (and strace's grandchild): same command line.
  const child = spawn(process.execPath, exec ? [exec.bin, 'exec', '--dir', exec.root, '--', process.execPath, ...argv] : argv, {
    cwd,
    ...(exec ? { env: exec.env } : {}),
    // The person's editor runs in a session of its own: no ancestry shared with the agents.
    detached,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: Player = { name, child, truth: [], stderr: [], done: null as unknown as Promise<number | null> };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      p.truth.push(JSON.parse(line) as TruthRecord);
    } catch {
      // not a ground-truth line
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => p.stderr.push(line));
  p.done = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  return p;
}

/** `winnow status --json` through the real CLI. */
async function status(bin: string, root: string): Promise<{ idle?: boolean; pending?: unknown[]; waiting?: unknown } | null> {
  try {
    const { stdout } = await execFileP(process.execPath, [bin, 'status', root, '--json'], { cwd: root, env: gitEnv(), timeout: 30_000 });
    return JSON.parse(stdout) as { idle?: boolean; pending?: unknown[] };
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Runs one scenario end to end. `layers` are copied into the result. */
export async function runScenario(s: Scenario, opts: RunOptions, layers: BenchResult['layers'], progress: (p: Omit<Progress, 'index' | 'total' | 'scenario'>) => void = () => {}): Promise<ScenarioRun> {
  const started = Date.now();
  const bin = opts.bin ?? WINNOW_BIN;
  const notes: string[] = [];
  const dir = await mkdtemp(join(await realpath(tmpdir()), `winnow-bench-${s.name}-`));
  const root = join(dir, 'ws');
  const daemons: Daemon[] = [];
  const players: Player[] = [];
  try {
    progress({ phase: 'setup' });
    const { base, initial } = await setupWorkspace(s, root);
    const gitDir = join(root, '.git');
    // Made before winnow starts, so the watcher already watches it when the cookies come.
    await mkdir(join(root, COOKIE_DIR), { recursive: true });
    const durationMs = timelineMs(s, Boolean(opts.quick));
    const configFile = join(dir, 'winnow.json');
    const ev = evidenceSetup(opts.evidence);
    const writeConfig = async (over: Record<string, unknown> = {}) => {
      const cfg = { ...(s.config ?? {}), ...over } as Record<string, unknown>;
      if (opts.fanotify) cfg.autonomous = { ...((cfg.autonomous as object | undefined) ?? {}), fanotify: opts.fanotify };
      if (opts.evidence) cfg.autonomous = { ...((cfg.autonomous as object | undefined) ?? {}), ...ev.autonomous };
      cfg.rules = [`BLOCK:${COOKIE_DIR}/:bench barrier`, ...((cfg.rules as string[] | undefined) ?? [])];
      await writeFile(configFile, JSON.stringify(cfg, null, 2));
    };
    await writeConfig();

    const cpu = { ticks: 0, wallMs: 0, hwmKb: 0, measured: true };
    let current: { d: Daemon; readyAt: number; ticks0: number | null } | null = null;
    let readyMs: number | null = null;
    const startDaemon = async () => {
      progress({ phase: 'starting' });
      const d = new Daemon(bin, root, configFile, { ...gitEnv(), ...ev.env });
      daemons.push(d);
      const ready = await d.waitFor((l) => l.msg === 'ready', READY_TIMEOUT_MS);
      if (!ready) {
        await d.stop();
        throw new Error(`winnow did not become ready (${d.running ? 'no "ready" line' : 'it exited'}); its last output:\n${d.tail.slice(-8).join('\n')}`);
      }
      const pid = typeof ready.pid === 'number' ? ready.pid : d.child.pid!;
      const sample = await procSample(pid);
      current = { d, readyAt: Date.now(), ticks0: sample?.ticks ?? null };
      readyMs ??= current.readyAt - d.spawnedAt;
    };
    const stopDaemon = async () => {
      if (!current) return;
      const { d, readyAt, ticks0 } = current;
      const sample = await procSample(d.child.pid!);
      if (sample && ticks0 !== null) {
        cpu.ticks += sample.ticks - ticks0;
        cpu.wallMs += Date.now() - readyAt;
        cpu.hwmKb = Math.max(cpu.hwmKb, sample.hwmKb);
      } else cpu.measured = false;
      const code = await d.stop();
      if (code !== 0) notes.push(`winnow exited with code ${code} on SIGTERM.`);
      current = null;
    };
    await startDaemon();

    // The quiet phase: nothing written; what winnow costs while it waits.
    let idleCpuPercent: number | null = null;
    let idleRssMb: number | null = null;
    if (s.idle) {
      progress({ phase: 'idle' });
      const pid = (current as { d: Daemon } | null)!.d.child.pid!;
      await sleep(s.idle.skipMs ?? 2000);
      const a = await procSample(pid);
      const ta = Date.now();
      await sleep(s.idle.ms);
      const b = await procSample(pid);
      if (a && b) {
        idleCpuPercent = Math.round(((b.ticks - a.ticks) / (await clockTicks()) / ((Date.now() - ta) / 1000)) * 10000) / 100;
        idleRssMb = round1(b.rssKb / 1024);
      }
    }

    // Players start now and wait for t0, so node's start-up does not eat into the timeline.
    const t0 = Date.now() + 600;
    const plans = planPlayers(s, { root, gitDir, t0, durationMs });
    const writePlan = async (name: string, plan: WriterPlan | HumanPlan) => {
      const f = join(dir, `plan-${name}.json`);
      await writeFile(f, JSON.stringify(plan));
      return f;
    };
    for (const w of plans.writers) {
      const exec = ev.underExec ? { bin, root, env: { ...process.env, ...ev.env } } : undefined;
      players.push(startPlayer(w.writer, `${w.player}.mjs`, await writePlan(w.writer, w), false, w.cwd ?? root, exec));
    }
    if (plans.human.edits.length || plans.human.storms.length) {
      players.push(startPlayer('human', 'human-editor.mjs', await writePlan('human', plans.human), true, root));
    }

    const ticker = setInterval(() => progress({ phase: 'playing', elapsedMs: Math.min(durationMs, Math.max(0, Date.now() - t0)), durationMs }), 250);
    try {
      for (const ev of (s.events ?? []).filter((e) => e.at < durationMs).sort((a, b) => a.at - b.at)) {
        await sleep(Math.max(0, t0 + ev.at - Date.now()));
        if (ev.action === 'restart') {
          await stopDaemon();
          if (ev.config) await writeConfig(ev.config);
          await startDaemon();
        }
      }
      const codes = await Promise.all(players.map((p) => p.done));
      codes.forEach((c, i) => {
        if (c !== 0) notes.push(`player ${players[i]!.name} exited with ${c}: ${players[i]!.stderr.slice(-3).join(' | ')}`);
      });
    } finally {
      clearInterval(ticker);
    }

    // Drain: a cookie proves the watcher delivered everything written before it; then wait for
    // status to say nothing is pending.
    progress({ phase: 'draining' });
    const d = (current as { d: Daemon } | null)?.d;
    if (!d) throw new Error('winnow is not running after the timeline');
    // The watcher may drop an event (SPEC: parcel loses some at batch boundaries): a cookie
    // unseen for a while is followed by another; any one of them seen is the proof.
    let seen = false;
    for (let k = 1; k <= BARRIER_TRIES && !seen; k++) {
      const cookie = `${COOKIE_DIR}/done-${k}`;
      const wait = d.waitFor((l) => l.msg === 'decision' && typeof l.path === 'string' && l.path.startsWith(`${COOKIE_DIR}/done-`), BARRIER_TIMEOUT_MS / BARRIER_TRIES, d.lines.length);
      await writeFile(join(root, cookie), `barrier ${k}\n`);
      seen = (await wait) !== null;
    }
    if (!seen) notes.push(`no decision for the barrier cookie within ${BARRIER_TIMEOUT_MS / 1000} s; drained on status alone.`);
    const drainUntil = Date.now() + DRAIN_TIMEOUT_MS;
    let idle = false;
    while (Date.now() < drainUntil) {
      const st = await status(bin, root);
      if (st && st.idle === true && Array.isArray(st.pending) && st.pending.length === 0) {
        idle = true;
        break;
      }
      await sleep(150);
    }
    if (!idle) notes.push(`winnow still had pending changes ${DRAIN_TIMEOUT_MS / 1000} s after the timeline ended; they count as not committed.`);
    await stopDaemon();

    progress({ phase: 'judging' });
    const atMsBySha = new Map<string, number>();
    const decisions = { ALLOW: 0, BLOCK: 0, byLayer: {} as Record<string, number> };
    for (const dm of daemons) {
      for (const l of dm.lines) {
        if (l.msg === 'commit' && typeof l.sha === 'string' && typeof l.atMs === 'number') atMsBySha.set(l.sha, l.atMs);
        if (l.msg === 'decision' && typeof l.path === 'string' && l.path !== COOKIE_DIR && !l.path.startsWith(`${COOKIE_DIR}/`)) {
          if (l.decision === 'ALLOW') decisions.ALLOW++;
          else if (l.decision === 'BLOCK') decisions.BLOCK++;
          const layer = String(l.layer);
          decisions.byLayer[layer] = (decisions.byLayer[layer] ?? 0) + 1;
        }
      }
    }
    const truth = players.flatMap((p) => p.truth);
    const commits = (await readHistory(root, base, atMsBySha, notes)).map((c) => ({
      ...c,
      entries: c.entries.filter((e) => !e.path.startsWith(`${COOKIE_DIR}/`)),
    }));
    const ignored = await ignoredPaths(root, [...new Set(truth.map((r) => r.path))]);
    const m = computeMetrics({ truth, initial, commits, ignored });
    // Name what a loop commit held, so a failed "no loop" check can be read without --keep.
    for (const sha of m.detail.loopShas.slice(0, 5)) {
      const c = commits.find((x) => x.sha === sha);
      const what = c ? c.entries.map((e) => `${e.path} (${e.blob ? `blob ${e.blob.slice(0, 7)}, no person wrote it` : 'deleted'})`).join(', ') : '?';
      notes.push(`commit ${sha.slice(0, 7)} holds no user change: ${what}`);
    }

    const settleMs = settleMsOf(s.resolvedConfig);
    const over = s.checks?.latencyOverSettleMs ?? 250;
    const checks: Check[] = [
      { name: 'every user change committed', column: 'FP', ok: m.accuracy.falsePositives === 0, detail: `${m.accuracy.falsePositives} missed of ${m.accuracy.userChanges}` },
      { name: 'no churn committed', column: 'FN', ok: m.accuracy.falseNegatives === 0, detail: `${m.accuracy.falseNegatives} of ${m.accuracy.systemChanges}` },
      { name: 'no loop', column: 'loops', ok: m.loops === 0, detail: `${m.loops} commit(s) without a user change` },
      s.events?.length
        ? { name: `p95 ≤ settle + ${over} ms`, ok: null, detail: 'not applicable: the scenario restarts winnow' }
        : {
            name: `p95 ≤ settle + ${over} ms (${settleMs + over} ms)`,
            column: 'p95' as const,
            ok: m.latency.p95Ms === null ? null : m.latency.p95Ms <= settleMs + over,
            detail: m.latency.p95Ms === null ? 'no samples' : `p95 ${m.latency.p95Ms} ms`,
          },
    ];
    const bound = (name: string, v: number | null, max: number | undefined, unit: string) => {
      if (max !== undefined) checks.push({ name: `${name} ≤ ${max}${unit}`, ok: v === null ? null : v <= max, detail: v === null ? 'not measured' : `${v}${unit}` });
    };
    bound('ready', readyMs, s.checks?.readyMs, ' ms');
    bound('peak RSS', cpu.measured && cpu.hwmKb ? round1(cpu.hwmKb / 1024) : null, s.checks?.rssMb, ' MB');
    bound('idle CPU', idleCpuPercent, s.checks?.idleCpuPercent, '%');
    const cap = s.checks?.maxCommitsBefore;
    if (cap) {
      const n = commits.filter((c) => c.atMs < t0 + cap.beforeMs).length;
      checks.push({ name: `≤ ${cap.max} commits in the first ${cap.beforeMs / 1000} s`, column: 'commits', ok: n <= cap.max, detail: `${n} commit(s)` });
    }
    const layerCount = (k: string) => decisions.byLayer[k] ?? 0;
    if ((s.writers?.length ?? 0) > 0 && layerCount('2') + layerCount('3') === 0) {
      notes.push('no decision was made by layer 2 or 3: every path was settled by a rule.');
    }
    if (opts.keep) notes.push(`workspace kept at ${root}`);

    const cpuPercent = cpu.measured && cpu.wallMs > 0 ? round1((cpu.ticks / (await clockTicks()) / (cpu.wallMs / 1000)) * 100) : null;
    if (cpuPercent === null) notes.push('CPU and RSS need /proc (Linux); left null.');
    const result: BenchResult = {
      scenario: s.name,
      accuracy: m.accuracy,
      latency: m.latency,
      commits: m.commits,
      loops: m.loops,
      resources: { cpuPercent, rssMb: cpu.measured && cpu.hwmKb ? round1(cpu.hwmKb / 1024) : null },
      layers,
      baseline: m.baseline,
    };
    if (s.idle) result.startup = { readyMs, idleCpuPercent, idleRssMb };
    return { result, detail: { ...m.detail, settleMs, durationMs, decisions, readyMs, checks, notes, wallMs: Date.now() - started } };
  } finally {
    for (const p of players) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    for (const dm of daemons) if (dm.running) await dm.stop();
    if (!opts.keep) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** The contracts of the micro-benchmarks in ./micro/ (each may be missing). */
interface MicroModules {
  l1: { measureL1(): Promise<{ l1NsPerPath: number; l1NsPerPathWarm: number; rules: number }> };
  l2: { measureL2(): Promise<{ l2UsPerCheck: number }> };
  l3: { measureL3(): Promise<{ l3UsPer1kJson: number; l3UsPer100kJson: number }> };
  commit: { measureCommit(): Promise<{ commitMsSmall: number; commitMs50k: number; files: number }> };
}

// Literal specifiers, so tsc checks each module against its contract; a module that fails to load
// at run time (a broken build) is a null figure with a note, not a failed bench.
const MICRO: { [K in keyof MicroModules]: () => Promise<MicroModules[K]> } = {
  l1: () => import('./micro/l1.js'),
  l2: () => import('./micro/l2.js'),
  l3: () => import('./micro/l3.js'),
  commit: () => import('./micro/commit.js'),
};

async function loadMicro<K extends keyof MicroModules>(k: K, notes: string[]): Promise<MicroModules[K] | null> {
  try {
    return await MICRO[k]();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    notes.push(code === 'ERR_MODULE_NOT_FOUND' ? `${k}: micro-benchmark not built yet (src/bench/micro/${k}.ts); figures left null.` : `${k}: failed to load: ${(e as Error).message}`);
    return null;
  }
}

async function attempt<T>(name: string, notes: string[], f: () => Promise<T>): Promise<T | null> {
  try {
    return await f();
  } catch (e) {
    notes.push(`${name}: failed: ${(e as Error).message}`);
    return null;
  }
}

/** Per-layer micro-benchmarks, run once for the whole bench. */
export async function measureLayers(opts: RunOptions): Promise<LayerFigures> {
  const notes: string[] = [];
  const out: LayerFigures = {
    layers: { l1NsPerPath: null, l2UsPerCheck: null, l3UsPer1kJson: null, l3UsPer100kJson: null },
    extra: { l1NsPerPathWarm: null, rules: null, commitMsSmall: null, commitMs50k: null },
    notes,
  };
  if (opts.skipMicro) {
    notes.push('micro-benchmarks skipped (--skip-micro); layer figures left null.');
    return out;
  }
  const l1 = await loadMicro('l1', notes);
  const r1 = l1 && (await attempt('l1', notes, () => l1.measureL1()));
  if (r1) Object.assign(out.layers, { l1NsPerPath: r1.l1NsPerPath }), Object.assign(out.extra, { l1NsPerPathWarm: r1.l1NsPerPathWarm, rules: r1.rules });
  const l2 = await loadMicro('l2', notes);
  const r2 = l2 && (await attempt('l2', notes, () => l2.measureL2()));
  if (r2) out.layers.l2UsPerCheck = r2.l2UsPerCheck;
  const l3 = await loadMicro('l3', notes);
  const r3 = l3 && (await attempt('l3', notes, () => l3.measureL3()));
  if (r3) Object.assign(out.layers, { l3UsPer1kJson: r3.l3UsPer1kJson, l3UsPer100kJson: r3.l3UsPer100kJson });
  if (opts.commitBench) {
    const c = await loadMicro('commit', notes);
    const rc = c && (await attempt('commit', notes, () => c.measureCommit()));
    if (rc) Object.assign(out.extra, { commitMsSmall: rc.commitMsSmall, commitMs50k: rc.commitMs50k });
  }
  return out;
}

/**
 * One scenario's N runs as one: each figure's median in `result`, the worst in `repeat.worst`; a
 * check passes only if it passed in every run; missed and leaked paths and notes of every run.
 */
export function combineRuns(runs: ScenarioRun[]): ScenarioRun {
  if (runs.length === 1) return runs[0]!;
  const results = runs.map((r) => r.result);
  const { median, worst } = aggregate(results);
  const last = runs[runs.length - 1]!;
  const checks: Check[] = last.detail.checks.map((c, i) => {
    const all = runs.map((r) => r.detail.checks[i]);
    const oks = all.map((x) => x?.ok ?? null);
    return {
      name: c.name,
      ok: oks.includes(false) ? false : oks.every((o) => o === null) ? null : true,
      detail: all.map((x, k) => `run ${k + 1}: ${x?.detail ?? '—'}`).join('; '),
    };
  });
  return {
    result: median,
    detail: {
      ...last.detail,
      readyMs: median.startup?.readyMs ?? last.detail.readyMs,
      checks,
      missed: runs.flatMap((r) => r.detail.missed),
      leaked: runs.flatMap((r) => r.detail.leaked),
      notes: runs.flatMap((r, k) => r.detail.notes.map((n) => `run ${k + 1}: ${n}`)),
      wallMs: runs.reduce((a, r) => a + r.detail.wallMs, 0),
    },
    repeat: { n: runs.length, worst, runs: results },
  };
}

/** Runs scenarios one after another (a shared CPU would blur each one's figures), then the micro-benchmarks. */
export async function runBench(scenarios: Scenario[], opts: RunOptions = {}): Promise<BenchReport> {
  const started = Date.now();
  const n = Math.max(1, Math.floor(opts.repeat ?? 1));
  const runs: ScenarioRun[] = [];
  const failures: BenchReport['failures'] = [];
  const layersNull: BenchResult['layers'] = { l1NsPerPath: null, l2UsPerCheck: null, l3UsPer1kJson: null, l3UsPer100kJson: null };
  for (const [i, s] of scenarios.entries()) {
    const progress = (p: Omit<Progress, 'index' | 'total' | 'scenario'>) =>
      opts.onProgress?.({ index: i + 1, total: scenarios.length, scenario: n > 1 ? `${s.name} (run ${k}/${n})` : s.name, ...p });
    const mine: ScenarioRun[] = [];
    let k = 1;
    try {
      for (; k <= n; k++) mine.push(await runScenario(s, opts, layersNull, progress));
      runs.push(combineRuns(mine));
    } catch (e) {
      failures.push({ scenario: n > 1 ? `${s.name} (run ${k} of ${n})` : s.name, error: (e as Error).message });
    }
  }
  opts.onProgress?.({ index: scenarios.length, total: scenarios.length, scenario: 'micro-benchmarks', phase: 'micro' });
  const measured: LayerFigures[] = [];
  for (let k = 0; k < n; k++) measured.push(await measureLayers(opts));
  const layers: LayerFigures = measured[0]!;
  if (n > 1) {
    const l = aggregate(measured.map((m) => m.layers));
    const x = aggregate(measured.map((m) => m.extra));
    layers.layers = l.median;
    layers.extra = x.median;
    layers.worst = { layers: l.worst, extra: x.worst };
    layers.notes = [...new Set(measured.flatMap((m) => m.notes))];
  }
  for (const r of runs) {
    r.result.layers = { ...layers.layers };
    if (r.repeat) {
      r.repeat.worst.layers = { ...(layers.worst?.layers ?? layers.layers) };
      r.repeat.runs.forEach((x, k) => (x.layers = { ...(measured[k] ?? measured[0]!).layers }));
    }
  }
  opts.onProgress?.({ index: scenarios.length, total: scenarios.length, scenario: '', phase: 'done' });
  return {
    runs,
    failures,
    layers,
    host: { cpus: cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` },
    startedAt: new Date(started).toISOString(),
    wallMs: Date.now() - started,
    quick: Boolean(opts.quick),
    repeat: n,
    load: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
