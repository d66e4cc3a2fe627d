/**
 * Changes accepted before a restart (pending.json) were accepted under the rules of then. The
 * rules, `.gitignore` or a nested repository may say otherwise now: what layer 1 blocks today is
 * no longer committed (issue 11 case 12). A layer 2 or 3 answer is not taken back: the evidence
 * that accepted the change (who wrote it) is gone after a restart, and the person's change stays.
 */
import type { Decision } from '../../core/decision.js';
import type { Clock, Logger } from '../../ports/index.js';
import type { Classifier } from '../classify/classifier.js';
import type { KnownDecisions } from '../classify/known-decisions.js';
import type { Settler } from '../settle/settler.js';

export interface RestoredDeps {
  classifier: Classifier;
  settler: Settler;
  known: KnownDecisions;
  clock: Clock;
  logger: Logger;
  /** A restored change the rules now block: tell the decision listeners. */
  announce(d: Decision): void;
  /** The state changed (state.json, pending.json). */
  changed(): void;
}

/** Classifies the restored changes again; forgets those layer 1 blocks now. */
export async function recheckRestored(deps: RestoredDeps): Promise<void> {
  const { settler, logger } = deps;
  const restored = settler.pendingList().map((p) => p.path);
  if (!restored.length) return;
  const now = deps.clock.now();
  let decisions: Decision[];
  try {
    decisions = await deps.classifier.classify(restored.map((path) => ({ path, kind: 'update', stream: 'rescan', priority: 'normal', at: now, source: 'catchup' })));
  } catch (e) {
    logger.log('warn', 'changes accepted before the restart could not be checked against the current rules; they stay accepted', { error: (e as Error).message });
    return;
  }
  for (const d of decisions) {
    if (d.decision !== 'BLOCK' || d.layer !== 1) continue;
    settler.forget(d.path);
    deps.known.count(d);
    logger.log('info', 'decision', { ...d });
    logger.log('info', 'accepted before the restart, blocked by the current rules: not committed', { path: d.path, rule: d.rule, reason: d.reason });
    deps.announce(d);
  }
  deps.changed();
}
