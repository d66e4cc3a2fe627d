/**
 * The daemon's status (`state.json`, `winnow status --json`), assembled from what each stage
 * reports. Pure: the times are numbers, `now` is an argument.
 */
import type { ProcessRung } from './classify/ladder.js';
import type { SavedReactions } from './classify/reaction.js';

export interface DecisionCounts {
  ALLOW: number;
  BLOCK: number;
  byLayer: Record<'1' | '2' | '3', number>;
}

/** Which layer-2 evidence sources are working (status `evidence`). */
export interface EvidenceModes {
  /** The writer trace's mode (ports `TraceState['mode']`). */
  fanotify: 'active' | 'unavailable' | 'off' | 'restarting';
  fanotifyReason?: string;
  openHandle: boolean;
  temporal: boolean;
  processTable: boolean;
  /** Process tracing (strace): active, off or unavailable, and why; `attach` says why attaching is refused. */
  trace?: { mode: 'active' | 'off' | 'unavailable'; reason?: string; attach?: string };
  /** Process lineage (forkstat) beside fanotify. */
  lineage?: boolean;
  /** Per autonomous process: its evidence rung and how to move it up (docs/evidence.md). */
  processes?: ProcessRung[];
}

export interface WatcherStatus {
  mode: 'live' | 'rescan-only';
  reason: string | null;
  lastRescan: string | null;
  /** Folders git ignores as a whole, left unwatched. */
  unwatched?: number;
}

export interface ServiceStatus {
  version: 1;
  workspace: string;
  pid: number;
  startedAt: string;
  updatedAt: string;
  idle: boolean;
  pending: { path: string; firstAt: string; dueAt: string | null }[];
  waiting: string | null;
  lastCommits: { sha: string; at: string; paths: string[]; message: string }[];
  rateLimit: unknown;
  breaker: unknown;
  pause: { pid: number; at: string; reason: string; expiresAt: string } | null;
  decisions: DecisionCounts;
  evidence: EvidenceModes;
  quarantined: { path: string; events: number; periodMs: number }[];
  held: { path: string; reason: string }[];
  /** Paths last BLOCKed on timing evidence alone (`timingOnly`), newest first, quarantined ones left out. */
  timingOnly: { path: string; at: string; reason: string }[];
  watcher: WatcherStatus;
  sync: unknown;
  configFile: string | null;
  /** The commit-reaction detector's recent state, so `filter test` applies it as the daemon would. */
  reactions?: SavedReactions;
}

/** What the committer reports (a structural subset of its status). */
export interface CommitterFacts {
  waiting: string | null;
  lastCommits: { sha: string; at: number; paths: string[]; message: string }[];
  rateLimit: unknown;
  breaker: unknown;
  held: { path: string; reason: string }[];
}

export interface StatusInput {
  root: string;
  pid: number;
  startedAt: number;
  idle: boolean;
  /** Accepted paths not yet committed, oldest first. */
  pending: { path: string; firstAt: number; dueAt: number | null }[];
  /** Null while the committer is not running (dry run, before start). */
  committer: CommitterFacts | null;
  pause: { pid: number; at: number; reason: string; expiresAt: number } | null;
  counts: DecisionCounts;
  evidence: EvidenceModes;
  quarantined: { path: string; events: number; periodMs: number }[];
  /** Paths held on timing alone, in any order. */
  heldOnTiming: Iterable<[string, { at: number; reason: string }]>;
  watcher: WatcherStatus;
  sync: unknown;
  configFile: string | null;
  reactions?: SavedReactions;
}

/** How many timing-only paths `status` lists. */
export const TIMING_ONLY_SHOWN = 50;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * @example
 * buildStatus({ ...input, pause: { pid: 7, at, reason: 'review', expiresAt } }, now).waiting
 * // → "paused by pid 7 (review) until 2026-…"
 */
export function buildStatus(s: StatusInput, now: number): ServiceStatus {
  const cs = s.committer;
  const pause = s.pause;
  let waiting = cs?.waiting ?? null;
  if (pause && now < pause.expiresAt) waiting = `paused by pid ${pause.pid} (${pause.reason}) until ${iso(pause.expiresAt)}`;
  const quarantined = new Set(s.quarantined.map((q) => q.path));
  const heldPaths = new Set((cs?.held ?? []).map((h) => h.path));
  return {
    version: 1,
    workspace: s.root,
    pid: s.pid,
    startedAt: iso(s.startedAt),
    updatedAt: iso(now),
    idle: s.idle,
    // A held path waits for a change of its own, not for the next commit: listed once, as held.
    pending: s.pending
      .filter((p) => !heldPaths.has(p.path))
      .map((p) => ({ path: p.path, firstAt: iso(p.firstAt), dueAt: p.dueAt === null ? null : iso(p.dueAt) })),
    waiting,
    lastCommits: (cs?.lastCommits ?? []).map((c) => ({ ...c, at: iso(c.at) })),
    rateLimit: cs?.rateLimit ?? null,
    breaker: cs?.breaker ?? null,
    pause: pause ? { pid: pause.pid, at: iso(pause.at), reason: pause.reason, expiresAt: iso(pause.expiresAt) } : null,
    decisions: s.counts,
    evidence: s.evidence,
    quarantined: s.quarantined,
    held: cs?.held ?? [],
    timingOnly: [...s.heldOnTiming]
      .filter(([path]) => !quarantined.has(path))
      .sort((a, b) => b[1].at - a[1].at)
      .slice(0, TIMING_ONLY_SHOWN)
      .map(([path, x]) => ({ path, at: iso(x.at), reason: x.reason })),
    watcher: s.watcher,
    sync: s.sync,
    configFile: s.configFile,
    ...(s.reactions ? { reactions: s.reactions } : {}),
  };
}
