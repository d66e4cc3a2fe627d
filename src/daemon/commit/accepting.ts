/**
 * The last ALLOW decision per accepted path, until it is committed: its evidence goes into the
 * commit's note (refs/notes/winnow). Bounded like the known decisions: the oldest goes first.
 */
import type { Decision } from '../../core/decision.js';

/** Accepted paths whose deciding record is kept for the commit's note. */
const ACCEPTING_MAX = 20_000;

export class AcceptingDecisions {
  private readonly byPath = new Map<string, Decision & { at: number }>();

  note(d: Decision, at: number): void {
    this.byPath.delete(d.path);
    this.byPath.set(d.path, { ...d, at });
    if (this.byPath.size > ACCEPTING_MAX) this.byPath.delete(this.byPath.keys().next().value as string);
  }

  get(path: string): (Decision & { at: number }) | undefined {
    return this.byPath.get(path);
  }

  /** Committed or discarded: the record is no longer needed. */
  forget(paths: readonly string[]): void {
    for (const p of paths) this.byPath.delete(p);
  }
}
