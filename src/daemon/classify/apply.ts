/**
 * The end of the classify stage: each decision is finalized (core/classify/finalize.ts: churn
 * quarantine, commit reaction, the same write blocked before), counted,
 * logged, remembered, and an accepted path is handed to settle.
 */
import { join } from 'node:path';
import type { Decision } from '../../core/decision.js';
import type { WatchEvent } from '../../core/event.js';
import { finalizeDecision, humanEvidence, machineEvidence, noWriterKnown } from '../../core/classify/finalize.js';
import type { ReactionState } from '../../core/classify/reaction.js';
import type { QuarantinedPath } from '../../core/classify/churn.js';
import type { Clock, Fs, Logger } from '../../ports/index.js';
import type { Settler } from '../settle/settler.js';
import { fileIdentity, type KnownDecisions } from './known-decisions.js';

export interface ApplyDeps {
  root: string;
  clock: Clock;
  fs: Fs;
  logger: Logger;
  known: KnownDecisions;
  settler: Settler;
  reactions: ReactionState;
  /** The churn quarantine holding `path`'s decision (the classifier's `quarantineOf`). */
  quarantineOf(path: string): QuarantinedPath | null;
  /** Classify and report, never accept (`filter debug` without a daemon). */
  dryRun: boolean;
  /** The config file's absolute path, if any: a change of it is reported. */
  configFile: string | null;
  /** False when the workspace root vanished: nothing is applied. Asked only for batches with a deletion. */
  rootPresent(): Promise<boolean>;
  onDecision(d: Decision): void;
  onConfigFileChanged(path: string): void;
}

/**
 * Applies `decisions` (one per event, same order). Returns whether a directory appeared (its
 * files need a rescan: no watcher event names them), or null when the root is gone.
 */
export async function applyDecisions(deps: ApplyDeps, events: WatchEvent[], decisions: Decision[]): Promise<{ dirAppeared: boolean } | null> {
  const { root, fs, known, settler } = deps;
  const now = deps.clock.now();
  if (events.some((e) => e.kind === 'delete') && !(await deps.rootPresent())) return null;
  // Layer-1 answers depend on the path alone; only deeper decisions need the file's identity
  // (size:mtime) so a rescan does not re-judge an unchanged file without its evidence. Accepted
  // changes need their mtime too: their quiet window counts from the write.
  const stats = await Promise.all(
    events.map(async (e, i) => {
      const d = decisions[i]!;
      if (d.layer > 1) return fileIdentity(fs, root, e.path);
      if (d.decision === 'ALLOW' && e.kind !== 'delete') return { key: 'L1', mtimeMs: (await fileIdentity(fs, root, e.path)).mtimeMs };
      return { key: 'L1', mtimeMs: null };
    }),
  );
  let dirAppeared = false;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const d = finalizeDecision(decisions[i]!, e, {
      reactions: deps.reactions,
      quarantine: (x) => deps.quarantineOf(x.path),
      blockedBefore: () => known.blockedWrite(e.path, stats[i]!.key),
    });
    known.count(d);
    deps.logger.log('info', 'decision', { ...d });
    deps.onDecision(d);
    known.remember(e.path, d, stats[i]!.key, now);
    if (d.rule === 'builtin:directory' && e.kind !== 'delete') dirAppeared = true;
    if (deps.configFile && join(root, e.path) === deps.configFile && e.kind !== 'delete') deps.onConfigFileChanged(e.path);
    if (deps.dryRun) continue;
    if (d.decision === 'ALLOW') {
      // A person's own saves keep the base window; only unexplained repeats stretch it.
      const human = humanEvidence(d);
      const doubt = !human && noWriterKnown(d);
      // With no writer known, the window counts from now, not from the write: a change found at
      // start-up gets a whole window in which an exact rung can catch its writer at it again.
      settler.accept(e.path, now, { heat: !human, writtenAt: doubt ? now : (stats[i]!.mtimeMs ?? e.at), unproven: doubt });
    } else if (machineEvidence(d) && settler.dropUnproven(e.path)) {
      // Accepted with no writer known (found at start-up, or before the tracer attached), and now
      // written by an autonomous process: that earlier write was most likely its own.
      deps.logger.log('info', 'accepted change dropped: an autonomous process writes it, and no person was seen writing it', { path: e.path });
    } else {
      // A change already accepted on human evidence stays accepted: later machine writes to the
      // same path ride along rather than drop what the person wrote (nothing is lost).
      settler.rideAlong(e.path, now);
    }
  }
  return { dirAppeared };
}
