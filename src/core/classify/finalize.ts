/**
 * The overrides applied to the classifier's decision before it is recorded and acted on, in one
 * step. The daemon applies them to every decision (daemon/classify/apply.ts) with its live state;
 * `filter test` applies them with the state the running daemon last wrote (state.json,
 * decisions.json), so it shows what the daemon would do.
 *
 * In order, each on a path layers 2–3 accepted:
 * 1. churn quarantine (`builtin:churn`): the churn detector (churn.ts) found the path changing on
 *    a schedule with autonomous evidence, and no person is known to have written it;
 * 2. commit reaction (`builtin:commit-reaction`): it keeps changing right after winnow's own
 *    commits while agents are active (a loop, reaction.ts);
 * 3. the same write blocked before: a decision with less evidence (a rescan) does not undo a
 *    BLOCK of the same bytes (same size and mtime).
 */
import type { Decision } from '../decision.js';
import type { WatchEvent } from '../event.js';
import type { QuarantinedPath } from './churn.js';
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

/** Accepted with no writer known at all: layer 2's evidence named nobody (not a rule, not a person). */
export function noWriterKnown(d: Decision): boolean {
  return d.layer === 3 && (d.evidence ?? []).every((e) => e.kind === 'none' || e.kind === 'unknown');
}

/**
 * An autonomous writer seen by a rung that sees every writer it covers (fanotify, process
 * tracing): there, a change accepted with no writer known was made before that rung could see it.
 * Declared writes and `winnow exec` trees are exact too, but say nothing of the other writers.
 */
export function machineEvidence(d: Decision): boolean {
  if (d.decision !== 'BLOCK' || d.layer !== 2) return false;
  return (d.evidence ?? []).some((e) => e.autonomous === true && (e.kind === 'fanotify' || e.kind === 'trace'));
}

/** What the overrides know beyond the decision: the daemon's live state, or what it last wrote. */
export interface FinalizeContext {
  /** Recent commits and the paths that changed right after them. Updated by each accepted change. */
  reactions: ReactionState;
  /** The path's quarantine, when the churn detector holds it and no person is known to have written it; else null. */
  quarantine(d: Decision): QuarantinedPath | null;
  /** An earlier BLOCK of this same write (same size and mtime), if any. */
  blockedBefore(d: Decision): { reason?: string | undefined } | null;
}

/** The reason of a `builtin:churn` decision. */
export function churnReason(q: QuarantinedPath): string {
  return `quarantined: changed ${q.events} times every ~${Math.round(q.periodMs / 1000)} s with no human evidence (winnow rules suggest proposes a rule)`;
}

/**
 * The final decision on `e`: the classifier's, or an override of an ALLOW from layers 2–3. The
 * commit-reaction check records the change in `ctx.reactions`. A commit reaction needs autonomous
 * write activity in the window (temporal evidence present): a person saving right after a commit
 * while no agent wrote anything is never taken for a reaction.
 */
export function finalizeDecision(d: Decision, e: Pick<WatchEvent, 'path' | 'at' | 'source'>, ctx: FinalizeContext): Decision {
  if (d.decision !== 'ALLOW' || d.layer === 1) return d;
  const q = d.layer === 3 ? ctx.quarantine(d) : null;
  if (q) return { ...d, decision: 'BLOCK', layer: 2, rule: 'builtin:churn', reason: churnReason(q) };
  const agentsActive = (d.evidence ?? []).some((x) => x.kind === 'temporal' || x.autonomous);
  const human = humanEvidence(d);
  if (e.source === 'watch' && isReaction(ctx.reactions, e.path, e.at, human || !agentsActive)) {
    return {
      ...d,
      decision: 'BLOCK',
      layer: 2,
      rule: 'builtin:commit-reaction',
      reason: `changed within ${REACTION_DEFAULTS.windowMs} ms after each of winnow's last commits with no sign of a person: a tool reacting to commits (a loop); held until it changes away from a commit`,
    };
  }
  const before = human ? null : ctx.blockedBefore(d);
  if (before) return { ...d, decision: 'BLOCK', layer: 2, reason: `unchanged since it was blocked (${before.reason}): the same write, reported again` };
  return d;
}
