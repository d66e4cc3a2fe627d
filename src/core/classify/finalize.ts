/**
 * The overrides applied to the classifier's decision before it is recorded and acted on. The
 * daemon applies them to every decision; `filter test` shows their result too.
 */
import type { Decision } from '../decision.js';
import type { WatchEvent } from '../event.js';
import { isReaction, REACTION_DEFAULTS, type ReactionState } from './reaction.js';
import { TRACE_COVERED } from './ownership.js';

/**
 * A person's save, not churn: a fanotify writer outside the autonomous set, or no traced write
 * while every autonomous process was traced.
 */
export function humanEvidence(d: Decision): boolean {
  const ev = d.evidence ?? [];
  const last = ev.filter((e) => e.kind === 'fanotify').pop();
  if (last) return !last.autonomous && Boolean(last.pid);
  return ev.some((e) => e.kind === 'trace' && !e.autonomous && e.detail === TRACE_COVERED);
}

/**
 * The final decision on `e`. An ANALYZE path accepted by layers 2–3 that keeps changing right
 * after winnow's own commits is a tool reacting to them: it is held back before it feeds a loop
 * (`builtin:commit-reaction`). Only with autonomous write activity in the window (temporal
 * evidence present): a person saving right after a commit while no agent wrote anything is never
 * taken for a reaction. Records the change in `reactions`.
 */
export function finalizeDecision(d: Decision, e: Pick<WatchEvent, 'path' | 'at' | 'source'>, reactions: ReactionState): Decision {
  const agentsActive = (d.evidence ?? []).some((x) => x.kind === 'temporal' || x.autonomous);
  const human = humanEvidence(d) || !agentsActive;
  if (d.decision === 'ALLOW' && d.layer > 1 && e.source === 'watch' && isReaction(reactions, e.path, e.at, human)) {
    return {
      ...d,
      decision: 'BLOCK',
      layer: 2,
      rule: 'builtin:commit-reaction',
      reason: `changed within ${REACTION_DEFAULTS.windowMs} ms after each of winnow's last commits with no sign of a person: a tool reacting to commits (a loop); held until it changes away from a commit`,
    };
  }
  return d;
}
