/**
 * Judges a run: the players' ground truth against the commits winnow made, and against what a
 * commit-everything watcher (gitwatch's way) would have committed. Pure: every input is data.
 * Definitions are in bench/README.md ("Metrics").
 */

/** `user`: the person's edits (must be committed). `system`: autonomous writers. `noise`: editor
 * temporaries and generated output written by the person's tools. Neither of the last two may be
 * committed. */
export type Label = 'user' | 'system' | 'noise';

/** One file operation as a player recorded it. `blob` is git's blob id of the new content. */
export interface TruthRecord {
  t: number;
  path: string;
  op: 'write' | 'delete';
  blob: string | null;
  label: Label;
  /** The edit (or storm) this belongs to; user changes are grouped by it. */
  edit?: string;
  writer?: string;
  pid?: number;
}

/** One path in a commit: its new blob id, or null when the commit deletes it. */
export interface CommitEntry {
  path: string;
  blob: string | null;
}

export interface CommitRecord {
  sha: string;
  /** When the commit was made, in epoch ms (from the daemon's `commit` log line). */
  atMs: number;
  entries: CommitEntry[];
}

export interface MetricsInput {
  truth: readonly TruthRecord[];
  /** Path → blob id in the base commit (the workspace before the timeline). */
  initial: ReadonlyMap<string, string>;
  /** winnow's commits, in any order. */
  commits: readonly CommitRecord[];
  /** Paths git ignores: a commit-everything watcher would not add them. */
  ignored: ReadonlySet<string>;
  /** gitwatch's default delay: commit 2 s after the last event. */
  baselineDelayMs?: number;
}

export interface Accuracy {
  userChanges: number;
  systemChanges: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
}

export interface Latency {
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** The SPEC's per-scenario result, key for key. */
export interface BenchResult {
  scenario: string;
  accuracy: Accuracy;
  latency: Latency;
  commits: number;
  loops: number;
  resources: { cpuPercent: number | null; rssMb: number | null };
  layers: { l1NsPerPath: number | null; l2UsPerCheck: number | null; l3UsPer1kJson: number | null; l3UsPer100kJson: number | null };
  baseline: { commits: number; falseNegatives: number };
  /**
   * Only for scenarios with an `idle` phase (not in the SPEC's shape otherwise): ms from spawning
   * `winnow start` to its ready line, and the daemon's CPU % and RSS over the quiet phase.
   */
  startup?: { readyMs: number | null; idleCpuPercent: number | null; idleRssMb: number | null };
}

/** A user change: the final content of one edit on one path. */
export interface UserChange {
  edit: string;
  path: string;
  blob: string | null;
  firstAt: number;
  lastAt: number;
}

export interface Metrics {
  accuracy: Accuracy;
  latency: Latency;
  commits: number;
  loops: number;
  baseline: { commits: number; falseNegatives: number };
  detail: {
    /** Latency of every committed user change, ms, ascending. */
    latenciesMs: number[];
    /** User changes never committed (the false positives). */
    missed: UserChange[];
    /** Overwritten by the same person before a commit could hold them, and the newer content committed. */
    superseded: number;
    /** System or noise content that winnow committed (the false negatives). */
    leaked: { path: string; blob: string | null; label: Label; writer?: string }[];
    loopShas: string[];
    baseline: { falsePositives: number; latenciesMs: number[]; leakedPaths: string[] };
  };
}

const key = (path: string, blob: string | null) => `${blob ?? 'deleted'}\0${path}`;

/** Nearest-rank percentile of an ascending array; null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function latencyOf(samples: readonly number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  return { p50Ms: percentile(s, 50), p95Ms: percentile(s, 95), p99Ms: percentile(s, 99), maxMs: s.length ? s[s.length - 1]! : null };
}

const byTime = (a: { t: number }, b: { t: number }) => a.t - b.t;

/**
 * The user changes of a run: per (edit, path), the last user operation. An edit whose final
 * content equals what the path held before it began changed nothing and is not counted.
 */
export function userChanges(truth: readonly TruthRecord[], initial: ReadonlyMap<string, string>): UserChange[] {
  const sorted = [...truth].sort(byTime);
  const state = new Map<string, string | null>(initial);
  const groups = new Map<string, { first: TruthRecord; last: TruthRecord; before: string | null }>();
  for (const r of sorted) {
    if (r.label === 'user') {
      const g = `${r.edit ?? ''}\0${r.path}`;
      const cur = groups.get(g);
      if (cur) cur.last = r;
      else groups.set(g, { first: r, last: r, before: state.get(r.path) ?? null });
    }
    state.set(r.path, r.op === 'delete' ? null : r.blob);
  }
  const out: UserChange[] = [];
  for (const { first, last, before } of groups.values()) {
    const blob = last.op === 'delete' ? null : last.blob;
    if (blob === before) continue;
    out.push({ edit: first.edit ?? '', path: first.path, blob, firstAt: first.t, lastAt: last.t });
  }
  return out.sort((a, b) => a.firstAt - b.firstAt);
}

/**
 * Contents that must never be committed: (path, blob) written by a system writer or as noise,
 * which no user operation wrote at that path, and which differ from the path's previous content.
 * Deletions count only for paths tracked at the base (deleting an untracked temp is no change).
 */
export function systemChanges(truth: readonly TruthRecord[], initial: ReadonlyMap<string, string>): Map<string, TruthRecord> {
  const userPairs = new Set(truth.filter((r) => r.label === 'user').map((r) => key(r.path, r.op === 'delete' ? null : r.blob)));
  const state = new Map<string, string | null>(initial);
  const out = new Map<string, TruthRecord>();
  for (const r of [...truth].sort(byTime)) {
    const blob = r.op === 'delete' ? null : r.blob;
    const prev = state.get(r.path) ?? null;
    state.set(r.path, blob);
    if (r.label === 'user' || blob === prev) continue;
    if (blob === null && !initial.has(r.path)) continue;
    const k = key(r.path, blob);
    if (!userPairs.has(k) && !out.has(k)) out.set(k, r);
  }
  return out;
}

/**
 * What gitwatch would have committed: a trailing `delayMs` timer restarted by every event on a
 * path git does not ignore; when it fires, `git add --all` and commit whatever differs.
 * Returns the commits as (time, entries) from the same ground truth.
 */
export function simulateBaseline(
  truth: readonly TruthRecord[],
  initial: ReadonlyMap<string, string>,
  ignored: ReadonlySet<string>,
  delayMs = 2000,
): CommitRecord[] {
  const events = truth.filter((r) => !ignored.has(r.path)).sort(byTime);
  const commits: CommitRecord[] = [];
  const committed = new Map<string, string>(initial);
  const tree = new Map<string, string>(initial);
  let i = 0;
  while (i < events.length) {
    // Extend the timer while the next event arrives before it fires.
    let j = i;
    while (j + 1 < events.length && events[j + 1]!.t - events[j]!.t < delayMs) j++;
    const fireAt = events[j]!.t + delayMs;
    for (let k = i; k <= j; k++) {
      const e = events[k]!;
      if (e.op === 'delete' || e.blob === null) tree.delete(e.path);
      else tree.set(e.path, e.blob);
    }
    const entries: CommitEntry[] = [];
    for (const [p, b] of tree) if (committed.get(p) !== b) entries.push({ path: p, blob: b });
    for (const p of committed.keys()) if (!tree.has(p)) entries.push({ path: p, blob: null });
    if (entries.length) {
      commits.push({ sha: `baseline-${commits.length + 1}`, atMs: fireAt, entries });
      committed.clear();
      for (const [p, b] of tree) committed.set(p, b);
    }
    i = j + 1;
  }
  return commits;
}

interface Judged {
  latencies: number[];
  missed: UserChange[];
  superseded: number;
  leakedKeys: string[];
  loopShas: string[];
}

function judge(changes: UserChange[], sys: Map<string, TruthRecord>, truth: readonly TruthRecord[], commits: readonly CommitRecord[]): Judged {
  const ordered = [...commits].sort((a, b) => a.atMs - b.atMs);
  const firstCommit = (c: UserChange) =>
    ordered.find((cm) => cm.atMs >= c.firstAt && cm.entries.some((e) => e.path === c.path && e.blob === c.blob));
  const latencies: number[] = [];
  const missed: UserChange[] = [];
  let superseded = 0;
  const found = new Map<UserChange, CommitRecord | undefined>(changes.map((c) => [c, firstCommit(c)]));
  for (const c of changes) {
    const cm = found.get(c);
    if (cm) {
      latencies.push(Math.max(0, cm.atMs - c.lastAt));
      continue;
    }
    const later = changes.some((d) => d.path === c.path && d.firstAt > c.lastAt && found.get(d));
    if (later) superseded++;
    else missed.push(c);
  }
  const committedKeys = new Set(ordered.flatMap((cm) => cm.entries.map((e) => key(e.path, e.blob))));
  const leakedKeys = [...sys.keys()].filter((k) => committedKeys.has(k));
  const userPairs = new Set(truth.filter((r) => r.label === 'user').map((r) => key(r.path, r.op === 'delete' ? null : r.blob)));
  const loopShas = ordered.filter((cm) => !cm.entries.some((e) => userPairs.has(key(e.path, e.blob)))).map((cm) => cm.sha);
  return { latencies: latencies.sort((a, b) => a - b), missed, superseded, leakedKeys, loopShas };
}

const ratio = (num: number, den: number) => (den === 0 ? 1 : Math.round((num / den) * 10_000) / 10_000);

/** Accuracy, latency, loops and the gitwatch baseline for one run. */
export function computeMetrics(input: MetricsInput): Metrics {
  const changes = userChanges(input.truth, input.initial);
  const sys = systemChanges(input.truth, input.initial);
  const w = judge(changes, sys, input.truth, input.commits);
  const baseCommits = simulateBaseline(input.truth, input.initial, input.ignored, input.baselineDelayMs ?? 2000);
  const b = judge(changes, sys, input.truth, baseCommits);

  const fp = w.missed.length;
  const fn = w.leakedKeys.length;
  // The filter's view (SPEC naming): "positive" = held back as churn. True positives are system
  // changes kept out; a false positive is a user change kept out; a false negative is churn let in.
  const tp = sys.size - fn;
  return {
    accuracy: {
      userChanges: changes.length,
      systemChanges: sys.size,
      falsePositives: fp,
      falseNegatives: fn,
      precision: ratio(tp, tp + fp),
      recall: ratio(tp, sys.size),
    },
    latency: latencyOf(w.latencies),
    commits: input.commits.length,
    loops: w.loopShas.length,
    baseline: { commits: baseCommits.length, falseNegatives: b.leakedKeys.length },
    detail: {
      latenciesMs: w.latencies,
      missed: w.missed,
      superseded: w.superseded,
      leaked: w.leakedKeys.map((k) => {
        const r = sys.get(k)!;
        return { path: r.path, blob: r.op === 'delete' ? null : r.blob, label: r.label, ...(r.writer ? { writer: r.writer } : {}) };
      }),
      loopShas: w.loopShas,
      baseline: {
        falsePositives: b.missed.length,
        latenciesMs: b.latencies,
        leakedPaths: [...new Set(b.leakedKeys.map((k) => sys.get(k)!.path))].sort(),
      },
    },
  };
}
