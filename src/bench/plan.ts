/**
 * Turns a scenario into the players' plans: concrete write times for each autonomous writer and
 * the person's edits, all relative to one t0. Pure: times are arguments.
 */
import type { Scenario, WriterTask, EditSpec } from './scenario.js';

export interface PlannedWrite {
  /** ms into the timeline (absent for reactions, which follow commits). */
  at?: number;
  path: string;
  kind: WriterTask['kind'];
  via?: 'direct' | 'shell' | 'xargs' | 'find-exec';
  lingerMs?: number;
  hold?: { ms: number; writes?: number };
  delayMs?: number;
}

export interface WriterPlan {
  writer: string;
  player: string;
  root: string;
  gitDir: string;
  t0: number;
  endAt: number;
  ops: PlannedWrite[];
  reactions: PlannedWrite[];
  /** Working directory of the writer process (default the workspace). */
  cwd?: string;
  /** Files held open for reading for the whole run. */
  openFiles?: { dir: string; count: number };
}

export interface PlannedEdit extends EditSpec {
  id: string;
}

export interface HumanPlan {
  root: string;
  t0: number;
  endAt: number;
  edits: PlannedEdit[];
  storms: { id: string; at: number; dirs: string[]; files: number; bytes?: number }[];
}

/** The timeline length actually played. */
export function timelineMs(s: Scenario, quick: boolean): number {
  return quick ? Math.min(s.durationMs, s.quickMs ?? 6000) : s.durationMs;
}

/** Write times of one task within [0, durationMs). */
export function taskTimes(t: WriterTask, durationMs: number): number[] {
  const times = new Set<number>(t.at?.filter((x) => x < durationMs) ?? []);
  if (t.every !== undefined) for (let x = t.start ?? t.every; x < durationMs; x += t.every) times.add(x);
  return [...times].sort((a, b) => a - b);
}

export function planPlayers(
  s: Scenario,
  o: { root: string; gitDir: string; t0: number; durationMs: number },
): { writers: WriterPlan[]; human: HumanPlan } {
  const endAt = o.t0 + o.durationMs;
  const writers = (s.writers ?? []).map((w): WriterPlan => {
    const ops: PlannedWrite[] = [];
    const reactions: PlannedWrite[] = [];
    for (const t of w.tasks) {
      const base: PlannedWrite = { path: t.path, kind: t.kind };
      if (t.via) base.via = t.via;
      if (t.lingerMs !== undefined) base.lingerMs = t.lingerMs;
      if (t.hold) base.hold = t.hold;
      for (const at of taskTimes(t, o.durationMs)) ops.push({ ...base, at });
      if (t.onCommit) reactions.push({ ...base, delayMs: t.onCommit.delayMs ?? 0 });
    }
    ops.sort((a, b) => a.at! - b.at!);
    const plan: WriterPlan = { writer: w.name ?? w.player, player: w.player, root: o.root, gitDir: o.gitDir, t0: o.t0, endAt, ops, reactions };
    if (w.openFiles) plan.openFiles = { dir: w.openFiles.dir, count: w.openFiles.count };
    if (w.cwd) plan.cwd = w.cwd;
    return plan;
  });
  const edits = (s.edits ?? [])
    .map((e, i) => ({ ...e, id: `e${i + 1}` }))
    .filter((e) => e.at < o.durationMs);
  const storms = (s.storms ?? []).map((st, i) => ({ ...st, id: `storm${i + 1}` })).filter((st) => st.at < o.durationMs);
  return { writers, human: { root: o.root, t0: o.t0, endAt, edits, storms } };
}
