/**
 * Sync with a remote (SPEC "Sync with a remote"): the coordination. Requests are queued and
 * merged (core/sync/queue.ts), gated by the interval, the breaker and a stopped-on-conflict state
 * (core/sync/schedule.ts), run one at a time (sequence.ts), and each outcome is persisted
 * (`sync-state.json`) and audited (`sync.log`).
 *
 * How uncommitted work is kept (no stash, no rebase in the person's work tree): local commits
 * are replayed onto the remote tip with `git merge-tree --write-tree` (replay.ts), object
 * plumbing that never touches the work tree, the index or the stash, so a conflict under
 * `manual` leaves literally nothing to undo and a SIGKILL at any point leaves only unreferenced
 * objects. The branch then moves with `git read-tree -m -u OLD NEW` (what `git checkout` does:
 * it carries uncommitted changes along and refuses, changing nothing, when one would be
 * overwritten) followed by a compare-and-swap `update-ref`. A journal covers the gap between
 * the two.
 */
import type { Config } from '../../core/config/defaults.js';
import {
  EMPTY_QUEUE, enqueue, take, gate, onFailure, nextAfterCommit, AHEAD_THRESHOLD, classifySyncFailure,
  type SyncPriority, type SyncQueue, type QueuedSync,
} from '../../core/sync/index.js';
import { breakerOpen, breakerSuccess, CLOSED } from '../../core/retry.js';
import { pruneSnapshots } from './snapshots.js';
import type { GitRunner } from '../../ports/index.js';
import { asGitFailure } from '../git-calls.js';
import { recover, runSyncSequence } from './sequence.js';
import { readPause } from '../lifecycle/pause.js';
import { PauseWait, pausedMessage } from './pause-wait.js';
import { audit, loadState, saveState, type PersistedState } from './sync-files.js';

export { recover, runSyncSequence } from './sequence.js';
export {
  syncRequestPath,
  syncResultPath,
  writeSyncRequest,
  readSyncRequest,
  clearSyncRequest,
  readSyncResult,
  serveSyncRequest,
  type SyncRequestFile,
  type SyncResultFile,
} from './request-file.js';

export type { SyncPriority } from '../../core/sync/index.js';
export type { SyncerDeps, SyncStatus, Syncer, SyncOutcome } from './types.js';
import type { SyncerDeps, SyncStatus, Syncer, SyncOutcome } from './types.js';


// ---------------------------------------------------------------------------------------------

/** The syncer plus what tests and the daemon may wait on (STYLE.md habit 9). */
export interface SyncerHandle extends Syncer {
  /** Resolves once start-up recovery is done (and the start-up sync, if any, is scheduled). */
  readonly ready: Promise<void>;
  /** Resolves when no sync is queued or running. */
  idle(): Promise<void>;
}

export function createSyncer(deps: SyncerDeps): SyncerHandle {
  const s = new SyncCoordinator(deps);
  return {
    request: (r) => s.request(r),
    afterCommit: () => s.afterCommit(),
    status: () => s.status(),
    close: () => s.close(),
    pauseChanged: () => s.pauseChanged(),
    ready: s.ready,
    idle: () => s.idle(),
  };
}

type Answer = { ok: boolean; message: string };

class SyncCoordinator {
  private readonly remote: NonNullable<Config['remote']>;
  private readonly random: () => number;
  private readonly git: GitRunner;
  private readonly perform: (run: QueuedSync) => Promise<SyncOutcome>;
  private queue: SyncQueue = EMPTY_QUEUE;
  private nextId = 1;
  private readonly waiters = new Map<number, (r: Answer) => void>();
  private running: Promise<void> | null = null;
  private closed = false;
  private timer: { handle: unknown; at: number } | null = null;
  private state: PersistedState = {
    version: 1,
    seq: 0,
    lastSync: null,
    lastAttemptAt: null,
    breaker: CLOSED,
    stopped: null,
    ahead: 0,
    behind: 0,
  };
  private readonly recovered: Promise<void>;
  private readonly pauseWait: PauseWait;
  /** `remote.pullIntervalMs`: the periodic pull's timer. */
  private pullTimer: unknown = null;
  /** Resolves once start-up recovery is done (and the start-up sync, if any, is scheduled). */
  readonly ready: Promise<void>;

  constructor(private readonly deps: SyncerDeps) {
    const remote = deps.config.remote;
    if (!remote) throw new Error('createSyncer needs config.remote');
    this.remote = remote;
    this.random = deps.random ?? Math.random;
    this.pauseWait = new PauseWait(deps.pause ?? (() => readPause(deps.stateDir, deps.clock.now(), deps.config.pause.maxMs)), process.pid);
    const git = (this.git = deps.git);
    this.perform = deps.perform ?? ((run: QueuedSync) => runSyncSequence(deps, git, run));
    const loaded = loadState(deps.stateDir).then((s) => {
      if (s) this.state = { ...this.state, ...s };
    });
    // What a killed sync left is recovered once, before the first sync of this process runs: two
    // recoveries at once would both try to finish the same interrupted branch move.
    this.recovered = loaded.then(() =>
      recover(deps, git).catch((e: Error) => deps.logger.log('warn', 'sync recovery failed', { error: e.message })),
    );
    this.ready = this.recovered.then(() => {
      if (deps.syncOnStart !== false && !this.closed) {
        deps.scheduler.setTimeout(() => void this.request({ reason: 'startup', priority: 'lifecycle' }), 0);
      }
      this.armPull();
    });
  }

  /**
   * Another machine's commits come in every `remote.pullIntervalMs`, but only while this
   * workspace is quiet: a person in the middle of an edit is not moved under. A busy tick waits
   * for the next one.
   */
  private armPull(): void {
    const every = this.remote.pullIntervalMs;
    if (!every || this.closed || this.deps.syncOnStart === false) return;
    this.pullTimer = this.deps.scheduler.setTimeout(() => {
      this.pullTimer = null;
      if (this.closed) return;
      if (this.running || this.deps.isQuiet?.() === false) return this.armPull();
      // Its own interval spaces it, not minIntervalMs (which a 'scheduled' sync waits for); like a
      // lifecycle sync it still waits for the breaker and stays off while syncing is stopped.
      void this.request({ reason: 'periodic pull', priority: 'lifecycle' }).finally(() => this.armPull());
    }, every);
  }

  private async persist(): Promise<void> {
    this.state = { ...this.state, seq: this.state.seq + 1 };
    await saveState(this.deps.stateDir, this.state).catch((e: Error) =>
      this.deps.logger.log('warn', 'sync state not saved', { error: e.message }),
    );
  }

  private arm(at: number, reason: string): void {
    if (this.closed) return;
    if (this.timer && this.timer.at <= at) return;
    if (this.timer) this.deps.scheduler.clearTimeout(this.timer.handle);
    const ms = Math.max(0, at - this.deps.clock.now());
    this.timer = {
      at,
      handle: this.deps.scheduler.setTimeout(() => {
        this.timer = null;
        void this.request({ reason, priority: 'scheduled' });
      }, ms),
    };
  }

  request(r: { reason: string; priority: SyncPriority; force?: boolean }): Promise<Answer> {
    if (this.closed && r.priority !== 'lifecycle') return Promise.resolve({ ok: false, message: 'the syncer is stopping' });
    const id = this.nextId++;
    const p = new Promise<Answer>((res) => this.waiters.set(id, res));
    this.queue = enqueue(this.queue, id, r, this.deps.clock.now());
    this.kick();
    return p;
  }

  private kick(): void {
    if (this.running) return;
    this.running = (async () => {
      await this.recovered;
      for (;;) {
        const { run, queue: rest } = take(this.queue);
        this.queue = rest;
        if (!run) break;
        const answer = await this.handle(run);
        for (const id of run.ids) {
          this.waiters.get(id)?.(answer);
          this.waiters.delete(id);
        }
      }
    })()
      .catch((e: Error) => this.deps.logger.log('error', 'sync loop failed', { error: e.message }))
      .finally(() => {
        this.running = null;
        if (this.queue.next) this.kick();
      });
  }

  pauseChanged(): void {
    if (this.closed) return;
    // The same priority it asked with: a person's `winnow sync` does not turn into one that waits for minIntervalMs.
    void this.pauseWait.lifted().then((r) => r && this.request(r));
  }

  private async handle(run: QueuedSync): Promise<Answer> {
    const { deps, remote } = this;
    const now = deps.clock.now();
    // SPEC: while a pause signal is up, syncs wait. `winnow sync --force` is the person's way past it.
    const paused = await this.pauseWait.holds(run);
    if (paused) {
      this.arm(paused.expiresAt, run.reasons.join(', '));
      deps.logger.log('info', 'sync waits for a pause', { reason: run.reasons.join(', '), pausedBy: paused.pid, until: new Date(paused.expiresAt).toISOString() });
      return { ok: false, message: pausedMessage(paused) };
    }
    if (this.state.stopped && run.priority !== 'manual' && !run.force) {
      // Resume by itself once the person has integrated the remote tip we conflicted with.
      if (await resolvedByPerson(this.git, this.state.stopped.remote)) {
        deps.logger.log('info', 'sync resumed', { reason: 'conflict resolved' });
        this.state = { ...this.state, stopped: null };
        await this.persist();
      }
    }
    const state = this.state;
    const g = gate({
      priority: run.priority,
      force: run.force,
      now,
      lastAttemptAt: state.lastAttemptAt,
      minIntervalMs: remote.minIntervalMs,
      breaker: state.breaker,
      stopped: state.stopped?.reason ?? null,
      ahead: state.ahead,
    });
    if (g.action === 'refuse') return { ok: false, message: g.why };
    if (g.action === 'wait') {
      this.arm(g.until, run.reasons.join(', '));
      return { ok: false, message: `deferred: ${g.why}; next attempt at ${new Date(g.until).toISOString()}` };
    }
    let out: SyncOutcome;
    try {
      out = await this.perform(run);
    } catch (e) {
      const err = e as Error;
      const g = asGitFailure(e);
      out = { ok: false, message: err.message, failure: g ? classifySyncFailure(g.stderr, g.timedOut) : 'other' };
    }
    await this.record(run, out, now);
    return { ok: out.ok, message: out.message };
  }

  /** Persists an attempt's outcome, arms a retry, and writes the audit and log lines. */
  private async record(run: QueuedSync, out: SyncOutcome, startedAt: number): Promise<void> {
    const { deps, remote } = this;
    const reason = run.reasons.join(', ');
    const end = deps.clock.now();
    let state: PersistedState = {
      ...this.state,
      lastAttemptAt: end,
      lastSync: { at: end, ok: out.ok, reason, ...(out.ok ? {} : { error: out.message }) },
      ahead: out.ahead ?? this.state.ahead,
      behind: out.behind ?? this.state.behind,
    };
    if (out.ok) {
      state = { ...state, breaker: breakerSuccess(state.breaker), stopped: null };
    } else if (out.failure === 'conflict') {
      state = {
        ...state,
        stopped: { reason: `conflicts with ${remote.name} in ${out.conflicts!.join(', ')}; resolve them (git pull --rebase, then fix and commit) or run \`winnow sync\` to try again`, files: out.conflicts ?? [], remote: out.conflictRemote ?? null },
      };
    } else {
      state = { ...state, breaker: onFailure(state.breaker, deps.config.retry, end, this.random(), out.failure, out.message) };
    }
    this.state = state;
    if (!out.ok && out.failure !== 'conflict' && state.breaker.retryAt !== null) this.arm(state.breaker.retryAt, `retry: ${reason}`);
    await this.persist();
    await audit(deps.stateDir, deps.logger, {
      at: new Date(end).toISOString(),
      reason,
      priority: run.priority,
      force: run.force,
      ok: out.ok,
      message: out.message,
      ...(out.failure ? { failure: out.failure } : {}),
      ...(out.conflicts ? { conflicts: out.conflicts } : {}),
      ...(out.conflictCopies?.length ? { conflictCopies: out.conflictCopies } : {}),
      ...(out.snapshot ? { snapshot: out.snapshot } : {}),
      pulled: out.pulled ?? 0,
      pushed: out.pushed ?? 0,
      ahead: this.state.ahead,
      behind: this.state.behind,
      durationMs: end - startedAt,
      breaker: this.state.breaker,
    });
    deps.logger.log(out.ok ? 'info' : 'warn', 'sync', { ok: out.ok, reason, message: out.message, pulled: out.pulled ?? 0, pushed: out.pushed ?? 0 });
    if (out.snapshot) {
      await pruneSnapshots(deps.stateDir, deps.config.snapshots.keep).catch((e: Error) => deps.logger.log('warn', 'snapshot prune failed', { error: e.message }));
    }
  }

  afterCommit(): void {
    if (this.closed) return;
    const { deps, remote } = this;
    this.state = { ...this.state, ahead: this.state.ahead + 1 };
    const state = this.state;
    if (state.stopped) {
      // Cheap check on the next tick whether the person resolved the conflict.
      this.arm(deps.clock.now() + remote.minIntervalMs, 'after commit');
      return;
    }
    const now = deps.clock.now();
    const at = state.ahead >= AHEAD_THRESHOLD && !breakerOpen(state.breaker, now)
      ? now
      : nextAfterCommit(state.lastAttemptAt, remote.minIntervalMs, state.breaker, now);
    this.arm(at, 'after commit');
  }

  status(): SyncStatus {
    const now = this.deps.clock.now();
    const state = this.state;
    const open = breakerOpen(state.breaker, now);
    return {
      lastSync: state.lastSync,
      nextAt: this.timer?.at ?? null,
      breaker: { open, until: open ? state.breaker.openUntil : null, failures: state.breaker.failures },
      conflicts: state.stopped?.files ?? [],
      stopped: state.stopped?.reason ?? null,
      ahead: state.ahead,
      behind: state.behind,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pullTimer) this.deps.scheduler.clearTimeout(this.pullTimer);
    this.pullTimer = null;
    if (this.timer) this.deps.scheduler.clearTimeout(this.timer.handle);
    this.timer = null;
    if (this.deps.syncOnExit !== false) await this.request({ reason: 'exit', priority: 'lifecycle' });
    while (this.running) await this.running;
  }

  async idle(): Promise<void> {
    await this.ready;
    while (this.running) await this.running;
  }
}

async function resolvedByPerson(git: GitRunner, remoteSha: string | null): Promise<boolean> {
  if (!remoteSha) return false;
  const r = await git(['merge-base', '--is-ancestor', remoteSha, 'HEAD'], { allowFail: true });
  return r.code === 0;
}
