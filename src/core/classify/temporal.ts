/**
 * Temporal correlation (SPEC "Layer 2", rung 4) as pure functions of the write-counter samples,
 * the recent changes and the write's time (STYLE.md habit 2). The daemon
 * (daemon/classify/write-counters.ts) takes the samples (/proc/PID/io), remembers the changes and
 * looks up their sizes; `judgeOwnership` (ownership.ts) weighs the result.
 *
 * For one change written at `t`: each autonomous process's counter movement between its last
 * sample before `t` and its first sample after it (`bracketWrite`) is what the autonomous set
 * wrote around the change; the other paths surely written between the same samples, at their
 * size in pages, are what explains those bytes (`explainStep`). Bytes nothing explains point at
 * an autonomous writer of this change.
 *
 * @example
 * const b = bracketWrite(new Map([[7, [{ at: 0, bytes: 0 }, { at: 100, bytes: 8192 }]]]), new Map(), 0, 50);
 * // → { active: 8192, from: 0, to: 100, movers: [{ pid: 7, bytes: 8192 }] }
 */
import { pageRound } from './ownership.js';

/**
 * A file's mtime comes from the kernel's coarse clock (up to a tick, ~4 ms, behind the real time):
 * a sample taken this much after an mtime may still precede the write.
 */
export const MTIME_SLACK_BEFORE_MS = 5;
/**
 * The write's pages are counted just after its mtime is set, and an exited child's counters reach
 * its parent when the parent reaps it: a sample this soon after the mtime may not hold them yet.
 */
export const MTIME_SLACK_AFTER_MS = 25;
/** Process start times are known to 10 ms (clock ticks), and boot time to about as much. */
export const START_SLACK_MS = 20;

/** One reading of a process's write counter (bytes written so far) at `at` (epoch ms). */
export interface CounterSample {
  at: number;
  bytes: number;
}

/** A change the watcher reported (oldest first in the list); size and mtime once looked up. */
export interface RecentChange {
  path: string;
  at: number;
  size?: number;
  mtime?: number;
}

/** What the autonomous set wrote around one write. */
export interface Bracket {
  /** Bytes the counters moved by between the samples around the write. */
  active: number;
  /** The widest interval over the processes whose counters moved (Infinity/-Infinity when none moved). */
  from: number;
  to: number;
  movers: { pid: number; bytes: number }[];
}

/** When a change was written: its mtime, unless that lies in the future (clock skew, `touch -d`); else its event time. */
export function writeTime(mtime: number | null, eventAt: number, now: number): number {
  return mtime !== null && mtime <= now ? mtime : eventAt;
}

/**
 * Each process's counter movement between its last sample surely before `t` and its first sample
 * surely after it (or its latest). A process first sampled after `t` counts from zero at its start
 * when it started after `lookedAtBefore` (it could not have been sampled earlier); otherwise
 * nothing is known of it. Null when no process has two samples around `t`.
 */
export function bracketWrite(
  samples: ReadonlyMap<number, readonly CounterSample[]>,
  startedAt: ReadonlyMap<number, number | null>,
  lookedAtBefore: number,
  t: number,
): Bracket | null {
  let active = 0;
  let from = Infinity;
  let to = -Infinity;
  const movers: Bracket['movers'] = [];
  let any = false;
  for (const [pid, list] of samples) {
    let base: CounterSample | undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.at <= t - MTIME_SLACK_BEFORE_MS) {
        base = list[i];
        break;
      }
    }
    if (!base) {
      // First sampled after the write: if it started since the set was last looked at, its
      // counter began at zero when it started; otherwise nothing is known about this write.
      const start = startedAt.get(pid);
      if (start === undefined || start === null || start > t + START_SLACK_MS || start < lookedAtBefore - START_SLACK_MS) continue;
      base = { at: start, bytes: 0 };
    }
    const after = list.find((x) => x.at >= t + MTIME_SLACK_AFTER_MS && x.at > base.at) ?? list[list.length - 1]!;
    if (after.at <= base.at) continue;
    any = true;
    const d = after.bytes - base.bytes;
    if (d > 0) {
      active += d;
      from = Math.min(from, base.at);
      to = Math.max(to, after.at);
      movers.push({ pid, bytes: d });
    }
  }
  return any ? { active, from, to, movers } : null;
}

/** Where an explanation stands: the next recent change to look at (newest first), and the bytes explained so far. */
export interface ExplainCursor {
  i: number;
  seen: Set<string>;
  explained: number;
}

export interface ExplainInput {
  /** Recent changes, oldest first. */
  recent: readonly RecentChange[];
  /** The change being judged (its own bytes explain nothing). */
  path: string;
  /** The bracket around its write. */
  from: number;
  to: number;
  active: number;
  /** When a person was seen (fanotify) writing `path`, if ever. */
  humanWrittenAt(path: string): number | undefined;
}

export function startExplain(recent: readonly RecentChange[]): ExplainCursor {
  return { i: recent.length - 1, seen: new Set(), explained: 0 };
}

/**
 * Steps through the recent changes, newest first, adding the size in pages of each one surely
 * written between the bracket's samples, until the active bytes are explained. Returns
 * `{ need }` when a change's size and mtime are needed: the caller looks them up (one of
 * `budget.lookups`), sets them on that change and steps again. With the budget spent, an unknown
 * change counts as explaining everything (towards ALLOW: a person's save is never held on a guess).
 */
export function explainStep(c: ExplainCursor, input: ExplainInput, budget: { lookups: number }): { explained: number } | { need: RecentChange } {
  const { recent, from, to } = input;
  for (; c.i >= 0; c.i--) {
    const r = recent[c.i]!;
    // Events arrive after their write: one that arrived before the interval began was written
    // before it.
    if (r.at < from) break;
    if (r.path === input.path || c.seen.has(r.path)) continue;
    // A file fanotify saw a person write is the person's bytes, not the agent's.
    const hw = input.humanWrittenAt(r.path);
    if (hw !== undefined && hw >= r.at) continue;
    if (r.size === undefined) {
      if (budget.lookups-- > 0) return { need: r };
      // Unknown: count it as explaining everything (towards ALLOW).
      c.seen.add(r.path);
      c.explained = Number.MAX_SAFE_INTEGER;
      break;
    }
    // Surely written between the two samples: after the first, and before the second — by
    // more than the mtime's coarseness, or because its event had already arrived when the
    // second was taken (an event comes after its write). In doubt it explains nothing
    // (towards BLOCK). A deletion (no mtime) explains nothing either way.
    const w = r.mtime ?? r.at;
    if (w <= from || w > to) continue;
    if (w > to - MTIME_SLACK_BEFORE_MS && r.at > to) continue;
    c.seen.add(r.path);
    c.explained += pageRound(r.size);
    if (c.explained >= input.active) break;
  }
  return { explained: c.explained };
}
