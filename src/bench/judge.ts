/**
 * A scenario's verdict: the decisions winnow logged, the history read back from git against the
 * players' ground truth (metrics.ts), and the scenario's checks (accuracy, loops, latency,
 * start-up, memory, idle CPU, commit cap).
 */
import type { BenchResult } from './metrics.js';
import { computeMetrics, type TruthRecord } from './metrics.js';
import { settleMsOf, type Scenario } from './scenario.js';
import { clockTicks, type DaemonSessions } from './daemon-process.js';
import { ignoredPaths, readHistory } from './workspace.js';
import type { Check, RunOptions, ScenarioRun } from './runner.js';

/** The cookie folder: a write there, seen in the decision log, proves earlier events were seen. */
export const COOKIE_DIR = '.bench-cookie';

const round1 = (x: number) => Math.round(x * 10) / 10;

export interface Played {
  s: Scenario;
  opts: RunOptions;
  layers: BenchResult['layers'];
  root: string;
  /** The base commit and its blobs (what the workspace held before the timeline). */
  base: string;
  initial: Map<string, string>;
  sessions: DaemonSessions;
  truth: TruthRecord[];
  /** When the timeline started (epoch ms) and how long it was. */
  t0: number;
  durationMs: number;
  idle: { idleCpuPercent: number | null; idleRssMb: number | null };
  notes: string[];
  /** When the scenario started (epoch ms). */
  started: number;
}

/** Reads the run back and judges it. */
export async function judge(p: Played): Promise<ScenarioRun> {
  const { s, root, notes, sessions } = p;
  const { cpu, readyMs } = sessions;
  const { idleCpuPercent, idleRssMb } = p.idle;
  const atMsBySha = new Map<string, number>();
  const decisions = { ALLOW: 0, BLOCK: 0, byLayer: {} as Record<string, number> };
  for (const dm of sessions.all) {
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
  const truth = p.truth;
  const commits = (await readHistory(root, p.base, atMsBySha, notes)).map((c) => ({
    ...c,
    entries: c.entries.filter((e) => !e.path.startsWith(`${COOKIE_DIR}/`)),
  }));
  const ignored = await ignoredPaths(root, [...new Set(truth.map((r) => r.path))]);
  const m = computeMetrics({ truth, initial: p.initial, commits, ignored });
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
    const n = commits.filter((c) => c.atMs < p.t0 + cap.beforeMs).length;
    checks.push({ name: `≤ ${cap.max} commits in the first ${cap.beforeMs / 1000} s`, column: 'commits', ok: n <= cap.max, detail: `${n} commit(s)` });
  }
  const layerCount = (k: string) => decisions.byLayer[k] ?? 0;
  if ((s.writers?.length ?? 0) > 0 && layerCount('2') + layerCount('3') === 0) {
    notes.push('no decision was made by layer 2 or 3: every path was settled by a rule.');
  }

  const cpuPercent = cpu.measured && cpu.wallMs > 0 ? round1((cpu.ticks / (await clockTicks()) / (cpu.wallMs / 1000)) * 100) : null;
  if (cpuPercent === null) notes.push('CPU and RSS need /proc (Linux); left null.');
  const result: BenchResult = {
    scenario: s.name,
    accuracy: m.accuracy,
    latency: m.latency,
    commits: m.commits,
    loops: m.loops,
    resources: { cpuPercent, rssMb: cpu.measured && cpu.hwmKb ? round1(cpu.hwmKb / 1024) : null },
    layers: p.layers,
    baseline: m.baseline,
  };
  if (s.idle) result.startup = { readyMs, idleCpuPercent, idleRssMb };
  return { result, detail: { ...m.detail, settleMs, durationMs: p.durationMs, decisions, readyMs, checks, notes, wallMs: Date.now() - p.started } };
}
