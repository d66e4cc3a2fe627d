/**
 * What the classify stage remembers of its decisions: counts for `status`, the last decision per
 * path with the file's identity (size:mtime) so a rescan does not re-judge an unchanged file
 * without the evidence it had, and the paths held back on timing alone.
 *
 * BLOCK decisions of layers 2–3 are persisted (decisions.json) and loaded on start.
 */
import { join } from 'node:path';
import { timingOnly, type Decision } from '../../core/decision.js';
import type { DecisionCounts } from '../../core/status.js';
import type { Fs } from '../../ports/index.js';

/** How many decisions on dirty paths are remembered (the oldest go first). */
const KNOWN_MAX = 20_000;
/** Paths kept for `status` as held back on timing alone (the oldest go first). */
const TIMING_ONLY_MAX = 200;

export interface Known {
  /** `size:mtime`, `absent`, `unknown`, or `L1` for a layer-1 answer (it depends on the path alone). */
  key: string;
  decision: Decision['decision'];
  layer: Decision['layer'];
  /** Set when the BLOCK rests on timing alone: kept across restarts for `status`. */
  timing?: { at: number; reason: string };
  /** Why a layer-2 BLOCK was made (who wrote it), for a look at the same write again. */
  reason?: string;
}

export type Timing = { at: number; reason: string };

/** A file's identity for "has it changed since it was judged": size and mtime. */
export async function fileIdentity(fs: Fs, root: string, path: string): Promise<{ key: string; mtimeMs: number | null }> {
  try {
    const st = await fs.stat(join(root, path));
    return st ? { key: `${st.size}:${st.mtimeMs}`, mtimeMs: st.mtimeMs } : { key: 'absent', mtimeMs: null };
  } catch {
    return { key: 'unknown', mtimeMs: null };
  }
}

export class KnownDecisions {
  readonly counts: DecisionCounts = { ALLOW: 0, BLOCK: 0, byLayer: { '1': 0, '2': 0, '3': 0 } };
  private readonly known = new Map<string, Known>();
  private readonly heldOnTiming = new Map<string, Timing>();

  /** Counts a final decision. */
  count(d: Decision): void {
    this.counts[d.decision]++;
    this.counts.byLayer[String(d.layer) as '1' | '2' | '3']++;
  }

  /** Remembers the latest decision on `path` (`key`: its identity when judged). */
  remember(path: string, d: Decision, key: string, now: number): void {
    const timing = timingOnly(d) ? { at: now, reason: d.reason } : undefined;
    this.noteTiming(path, timing);
    if (this.known.size >= KNOWN_MAX) this.known.delete(this.known.keys().next().value as string);
    const why = d.decision === 'BLOCK' && d.layer === 2 && !timing ? { reason: d.reason } : {};
    this.known.set(path, { key, decision: d.decision, layer: d.layer, ...(timing ? { timing } : {}), ...why });
  }

  /**
   * The layer-2 BLOCK of `path` when the file has not changed since (same `key`), on evidence
   * stronger than timing: a later look at the same write, which no longer has that evidence (the
   * watcher may report one write in two batches, the second after the writer's trace aged out),
   * must not undo it.
   */
  blockedWrite(path: string, key: string): Known | null {
    const k = this.known.get(path);
    if (!k || k.decision !== 'BLOCK' || k.layer !== 2 || k.timing || k.reason === undefined) return null;
    return key === k.key && key !== 'absent' && key !== 'unknown' ? k : null;
  }

  /** True when `path` was judged and a new look would judge it the same way (no need to classify again). */
  async unchanged(path: string, identity: () => Promise<string>): Promise<boolean> {
    const prior = this.known.get(path);
    return Boolean(prior && ((prior.key === 'L1' && prior.decision === 'BLOCK') || prior.key === (await identity())));
  }

  /** Committed: its decision no longer says anything. */
  forget(path: string): void {
    this.known.delete(path);
    this.heldOnTiming.delete(path);
  }

  /** Blocked paths that are clean again (not in `dirty`) no longer need remembering. */
  forgetClean(dirty: ReadonlySet<string>): void {
    for (const [p, k] of this.known) if (k.decision === 'BLOCK' && !dirty.has(p)) this.forget(p);
  }

  /** Paths held on timing alone, oldest first. */
  timingOnly(): Iterable<[string, Timing]> {
    return this.heldOnTiming;
  }

  /** What decisions.json keeps: BLOCK decisions beyond layer 1. */
  persisted(): Record<string, Known> {
    const out: Record<string, Known> = {};
    for (const [p, k] of this.known) if (k.decision === 'BLOCK' && k.layer !== 1) out[p] = k;
    return out;
  }

  /** Loads decisions.json's content (entries that do not look like decisions are skipped). */
  load(saved: Record<string, Known>): void {
    const timings: [string, Timing][] = [];
    for (const [p, v] of Object.entries(saved)) {
      if (!v || typeof v.key !== 'string') continue;
      this.known.set(p, v);
      if (v.timing && typeof v.timing.at === 'number' && typeof v.timing.reason === 'string') timings.push([p, v.timing]);
    }
    for (const [p, t] of timings.sort((a, b) => a[1].at - b[1].at)) this.noteTiming(p, t);
  }

  /** Keeps `heldOnTiming` (bounded, oldest out) in step with a path's latest decision. */
  private noteTiming(path: string, timing: Timing | undefined): void {
    this.heldOnTiming.delete(path);
    if (!timing) return;
    this.heldOnTiming.set(path, timing);
    if (this.heldOnTiming.size > TIMING_ONLY_MAX) this.heldOnTiming.delete(this.heldOnTiming.keys().next().value as string);
  }
}
