/** The syncer's ports and answers (syncer.ts re-exports them). */
import type { Config } from '../../core/config/defaults.js';
import type { Clock, GitRunner, Logger, Scheduler } from '../../ports/index.js';
import type { SyncPriority, QueuedSync, SyncFailure } from '../../core/sync/index.js';
import type { PauseSignal } from '../lifecycle/pause.js';

export interface SyncerDeps {
  root: string;
  gitDir: string;
  stateDir: string;
  /** config.remote non-null. */
  config: Config;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  hostname: string;
  /** Commit everything accepted and pending now (ignores the pause; the syncer holds it). */
  commitPending(): Promise<void>;
  /** Whether the workspace is quiet (nothing being classified, settled or committed): the periodic pull waits for it. */
  isQuiet?(): boolean;
  /** The git adapter's runner (`Git.raw`, or `createGitRunner`); tests wrap it to inject failures. */
  git: GitRunner;
  /** Timeout for fetch and push (default 120 s); local git calls use `commit.timeoutMs`. */
  networkTimeoutMs?: number;
  /** Source of jitter in [0,1) (tests pin it). */
  random?: () => number;
  /** Replaces the git sequence (component tests of the coordination). */
  perform?: (run: QueuedSync) => Promise<SyncOutcome>;
  /** Run the start-up sync on creation (default true). */
  syncOnStart?: boolean;
  /** Run the exit sync in close() (default true; `winnow sync` without a daemon turns it off). */
  syncOnExit?: boolean;
  /** The active pause signal (default: `<state>/pause` read from disk); the daemon passes its own reader. */
  pause?(): Promise<PauseSignal | null>;
  /** Test-only: called at named steps of the sequence (fault tests SIGKILL there). */
  faultPoint?: (step: string) => void | Promise<void>;
}

export interface SyncStatus {
  lastSync: { at: number; ok: boolean; reason: string; error?: string } | null;
  nextAt: number | null;
  breaker: { open: boolean; until: number | null; failures: number };
  conflicts: string[];
  stopped: string | null;
  ahead: number;
  behind: number;
}

export interface Syncer {
  request(r: { reason: string; priority: SyncPriority; force?: boolean }): Promise<{ ok: boolean; message: string }>;
  /** Schedules a sync no sooner than minIntervalMs after the last. */
  afterCommit(): void;
  status(): SyncStatus;
  /** Runs the exit sync (lifecycle priority), then stops. */
  close(): Promise<void>;
  /** The pause signal changed: a sync that waited for someone's pause runs once it is gone. */
  pauseChanged(): void;
}

/** What one attempt did. */
export interface SyncOutcome {
  ok: boolean;
  message: string;
  failure?: SyncFailure | 'conflict' | 'dirty' | 'blocked' | 'config';
  /** Conflicted paths (manual strategy), when the attempt stopped on them. */
  conflicts?: string[];
  /** The remote tip the conflict was against: syncing resumes once HEAD contains it. */
  conflictRemote?: string;
  pulled?: number;
  pushed?: number;
  ahead?: number;
  behind?: number;
  snapshot?: string;
  conflictCopies?: string[];
}
