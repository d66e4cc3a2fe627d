/** What layer 1 rules say; layers 2 and 3 turn ANALYZE into ALLOW or BLOCK. */
export type RuleAction = 'BLOCK' | 'ALLOW' | 'ANALYZE';
export type Verdict = 'ALLOW' | 'BLOCK';
export type Layer = 1 | 2 | 3;

/** One piece of layer-2 evidence about who wrote a path. */
export interface Evidence {
  /** `unknown`: an autonomous process may have written it, but no trace could say (held back). */
  kind: 'fanotify' | 'trace' | 'declared' | 'open-handle' | 'temporal' | 'exec' | 'unknown' | 'none';
  /** PID of the writer or holder, when known. */
  pid?: number;
  command?: string;
  autonomous: boolean;
  detail?: string;
}

/** Per-layer cost of one decision (nanoseconds for L1, microseconds for L2/L3). */
export interface DecisionTimings {
  l1Ns?: number;
  l2Us?: number;
  l3Us?: number;
}

/**
 * The record every decision produces, printed as-is by `filter test --json` and `filter debug`.
 * `rule` is the text of the rule that matched (`ALLOW:docs/**:User docs`), or a built-in name
 * such as `builtin:git-ignored`, or null when the default action applied.
 */
export interface Decision {
  path: string;
  decision: Verdict;
  layer: Layer;
  rule: string | null;
  reason: string;
  evidence?: Evidence[];
  timings?: DecisionTimings;
}

/** The layer-1 answer before the deeper layers run. */
export interface RuleMatch {
  action: RuleAction;
  /** The rule text, `builtin:…` for built-in blocks, or null for the default action. */
  rule: string | null;
  reason: string;
}

/**
 * A BLOCK that rests on timing alone: layer 2 found autonomous write activity around the change
 * (temporal correlation), or a writer no trace could identify while an agent ran, but no known
 * writer, no holder and no built-in rule. Without an exact trace
 * this is the one decision that can be wrong about a person's edit, so `status` lists such paths.
 */
export function timingOnly(d: Decision): boolean {
  // The ANALYZE rule that sent it to layer 2 is named in `rule`; a built-in one (commit-reaction) decided it.
  if (d.decision !== 'BLOCK' || d.layer !== 2 || d.rule?.startsWith('builtin:')) return false;
  const ev = d.evidence ?? [];
  if (!ev.some((e) => (e.kind === 'temporal' || e.kind === 'unknown') && e.autonomous)) return false;
  // A writer that exited unidentified is recorded as fanotify evidence with autonomous false.
  return !ev.some((e) => e.kind === 'open-handle' || e.kind === 'exec' || e.kind === 'trace' || e.kind === 'declared' || (e.kind === 'fanotify' && e.autonomous));
}
