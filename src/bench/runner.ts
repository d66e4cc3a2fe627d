/**
 * The benchmark runner: for each scenario, a temp git repo, winnow started through its real CLI
 * as its own process, autonomous writers and a person's editor as real child processes, and a
 * verdict read from git history against the players' ground truth (bench/README.md). Its parts:
 * workspace.ts (the git workspace), daemon-process.ts (winnow as a child process, its CPU and
 * memory), players.ts (the players), judge.ts (the verdict).
 */
import { mkdtemp, mkdir, realpath, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult, Metrics } from './metrics.js';
import { planPlayers, timelineMs, type HumanPlan, type WriterPlan } from './plan.js';
import type { Scenario } from './scenario.js';
import { aggregate } from './repeat.js';
import { clockTicks, Daemon, DaemonSessions, procSample, status } from './daemon-process.js';
import { COOKIE_DIR, judge, type Played } from './judge.js';
import { startPlayer, type Player } from './players.js';
import { gitEnv, setupWorkspace } from './workspace.js';
import { measureLayers, type LayerFigures } from './layers.js';

export { measureLayers, type LayerFigures } from './layers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WINNOW_BIN = join(ROOT, 'bin', 'winnow.js');
export { PLAYERS_DIR } from './players.js';

const BARRIER_TIMEOUT_MS = 15_000;
const BARRIER_TRIES = 5;
const DRAIN_TIMEOUT_MS = 30_000;

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
  /**
   * Keep the workspace, winnow's log and the players' truth of a run that missed a person's
   * change, committed churn or looped, or could not finish: a failure seen once in many runs can
   * then be read afterwards.
   */
  keepFailed?: boolean;
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Runs one scenario end to end. `layers` are copied into the result. */
export async function runScenario(s: Scenario, opts: RunOptions, layers: BenchResult['layers'], progress: (p: Omit<Progress, 'index' | 'total' | 'scenario'>) => void = () => {}): Promise<ScenarioRun> {
  const started = Date.now();
  const bin = opts.bin ?? WINNOW_BIN;
  const notes: string[] = [];
  const dir = await mkdtemp(join(await realpath(tmpdir()), `winnow-bench-${s.name}-`));
  const root = join(dir, 'ws');
  const configFile = join(dir, 'winnow.json');
  const ev = evidenceSetup(opts.evidence);
  const sessions = new DaemonSessions(() => new Daemon(bin, root, configFile, { ...gitEnv(), ...ev.env }), notes);
  const players: Player[] = [];
  let keep = Boolean(opts.keep);
  const keepRecords = async (truth: unknown[]) => {
    for (const [i, d] of sessions.all.entries()) {
      await writeFile(join(dir, `winnow-${i + 1}.log`), d.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    }
    await writeFile(join(dir, 'truth.json'), JSON.stringify(truth, null, 1));
    return `workspace kept at ${root}; winnow's log and the players' truth beside it`;
  };
  try {
    progress({ phase: 'setup' });
    const { base, initial } = await setupWorkspace(s, root);
    const gitDir = join(root, '.git');
    // Made before winnow starts, so the watcher already watches it when the cookies come.
    await mkdir(join(root, COOKIE_DIR), { recursive: true });
    const durationMs = timelineMs(s, Boolean(opts.quick));
    const writeConfig = async (over: Record<string, unknown> = {}) => {
      const cfg = { ...(s.config ?? {}), ...over } as Record<string, unknown>;
      if (opts.fanotify) cfg.autonomous = { ...((cfg.autonomous as object | undefined) ?? {}), fanotify: opts.fanotify };
      if (opts.evidence) cfg.autonomous = { ...((cfg.autonomous as object | undefined) ?? {}), ...ev.autonomous };
      cfg.rules = [`BLOCK:${COOKIE_DIR}/:bench barrier`, ...((cfg.rules as string[] | undefined) ?? [])];
      await writeFile(configFile, JSON.stringify(cfg, null, 2));
    };
    await writeConfig();
    const startDaemon = async () => {
      progress({ phase: 'starting' });
      await sessions.start();
    };
    await startDaemon();

    // The quiet phase: nothing written; what winnow costs while it waits.
    let idle: Played['idle'] = { idleCpuPercent: null, idleRssMb: null };
    if (s.idle) {
      progress({ phase: 'idle' });
      idle = await measureIdle(sessions.current!.d.child.pid!, s.idle);
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
          await sessions.stop();
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

    progress({ phase: 'draining' });
    const d = sessions.current?.d;
    if (!d) throw new Error('winnow is not running after the timeline');
    await drain(d, bin, root, notes);
    await sessions.stop();

    progress({ phase: 'judging' });
    const truth = players.flatMap((p) => p.truth);
    const run = await judge({ s, opts, layers, root, base, initial, sessions, truth, t0, durationMs, idle, notes, started });
    keep ||= Boolean(opts.keepFailed) && run.detail.checks.some((c) => c.ok === false && (c.column === 'FP' || c.column === 'FN' || c.column === 'loops'));
    if (keep) run.detail.notes.push(await keepRecords(truth));
    return run;
  } catch (e) {
    if (!opts.keepFailed || !(e instanceof Error)) throw e;
    keep = true;
    await sessions.stopAll();
    e.message += ` (${await keepRecords(players.flatMap((p) => p.truth))})`;
    throw e;
  } finally {
    for (const p of players) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await sessions.stopAll();
    if (!keep) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** winnow's CPU and RSS while nothing is written, after `skipMs` (default 2 s) of settling down. */
async function measureIdle(pid: number, idle: { skipMs?: number; ms: number }): Promise<Played['idle']> {
  await sleep(idle.skipMs ?? 2000);
  const a = await procSample(pid);
  const ta = Date.now();
  await sleep(idle.ms);
  const b = await procSample(pid);
  if (!a || !b) return { idleCpuPercent: null, idleRssMb: null };
  return {
    idleCpuPercent: Math.round(((b.ticks - a.ticks) / (await clockTicks()) / ((Date.now() - ta) / 1000)) * 10000) / 100,
    idleRssMb: round1(b.rssKb / 1024),
  };
}

/**
 * Drain: a cookie proves the watcher delivered everything written before it; then wait for
 * status to say nothing is pending.
 */
async function drain(d: Daemon, bin: string, root: string, notes: string[]): Promise<void> {
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

/** Runs the micro-benchmarks, then the scenarios one after another (a shared CPU would blur each one's figures). */
export async function runBench(scenarios: Scenario[], opts: RunOptions = {}): Promise<BenchReport> {
  const started = Date.now();
  const n = Math.max(1, Math.floor(opts.repeat ?? 1));
  const runs: ScenarioRun[] = [];
  const failures: BenchReport['failures'] = [];
  const layersNull: BenchResult['layers'] = { l1NsPerPath: null, l2UsPerCheck: null, l3UsPer1kJson: null, l3UsPer100kJson: null };
  // First, in a process that has not yet held five scenarios' results nor deleted their
  // workspaces: after them a 50k-file commit measured 106 ms where a fresh node measured 43-50.
  opts.onProgress?.({ index: 0, total: scenarios.length, scenario: 'micro-benchmarks', phase: 'micro' });
  const measured: LayerFigures[] = [];
  for (let k = 0; k < n; k++) measured.push(await measureLayers(opts));
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
