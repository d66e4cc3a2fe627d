/**
 * The service runs the pipeline's stages (built and connected in stages.ts), one folder each:
 *
 *   watch/     intake (priorities, low-priority coalescing) · rescan (git status) · streams (watcher)
 *   classify/  queue (chunks, storm order) · classifier (layers 1–3) · apply (finalize, remember)
 *   settle/    settler (quiet windows, the settle timer)
 *   commit/    committer (single flight)
 *   sync/      syncer (remote)
 *   lifecycle/ lock · state-store · pause · registry · root-guard · config-change
 *
 * It owns no policy: it starts and stops the stages, passes events between them, and answers
 * `onIdle()` and `status()`.
 */
import { join } from 'node:path';
import type { Decision } from '../core/decision.js';
import type { WatchEvent } from '../core/event.js';
import { createReactionState, recordCommit, saveReactions } from '../core/classify/reaction.js';
import { buildStatus, type ServiceStatus } from '../core/status.js';
import { applyDecisions } from './classify/apply.js';
import type { Classifier } from './classify/classifier.js';
import { KnownDecisions } from './classify/known-decisions.js';
import type { ClassifyQueue } from './classify/queue.js';
import { AcceptingDecisions } from './commit/accepting.js';
import type { Committer } from './commit/committer.js';
import { UnnamableFiles } from './commit/unnamable.js';
import { reportConfigChange } from './lifecycle/config-change.js';
import { tryAcquireLock, releaseLock, AlreadyRunningError } from './lifecycle/lock.js';
import { IdleWaiters } from './lifecycle/idle.js';
import { PauseGate, HELD_LOCK_FIELDS } from './lifecycle/pause-gate.js';
import { recheckRestored } from './lifecycle/restored.js';
import type { ServiceDeps } from './service-deps.js';
import type { RootGuard } from './lifecycle/root-guard.js';
import type { StateStore } from './lifecycle/state-store.js';
import type { Settler } from './settle/settler.js';
import type { SyncerHandle } from './sync/syncer.js';
import type { Intake } from './watch/intake.js';
import type { Rescanner } from './watch/rescan.js';
import type { WatchStreams } from './watch/streams.js';
import { openCommitStages, wireStages } from './stages.js';
import { startUp } from './lifecycle/start-up.js';

export type { DecisionCounts, ServiceStatus } from '../core/status.js';
export { streamSpecs } from './watch/streams.js';
export { isStagedOnly } from './watch/rescan.js';
export { AlreadyRunningError } from './lifecycle/lock.js';
export type { ServiceDeps } from './service-deps.js';

export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves when nothing is queued, classifying, pending or committing. */
  onIdle(): Promise<void>;
  status(): ServiceStatus;
  /** Feeds events as if the watcher had sent them (tests, `filter debug`). */
  ingest(events: WatchEvent[]): void;
  rescan(reason: string): Promise<void>;
  onDecision(listener: (d: Decision) => void): () => void;
  /** Commits everything accepted now, ignoring settle windows (sync, shutdown on request). */
  commitPendingNow(): Promise<void>;
}

export function createService(deps: ServiceDeps): Service {
  const s = new DaemonService(deps);
  return {
    start: () => s.start(),
    stop: () => s.stop(),
    onIdle: () => s.onIdle(),
    status: () => s.status(),
    ingest: (events) => s.intake.ingest(events),
    rescan: (reason) => s.rescanner.rescan(reason),
    onDecision: (l) => s.onDecision(l),
    commitPendingNow: () => s.commitPendingNow(),
  };
}

class DaemonService {
  private readonly root: string;
  private readonly stateDir: string;
  private readonly classifier: Classifier;
  private readonly known = new KnownDecisions();
  private readonly reactions = createReactionState();
  private readonly listeners = new Set<(d: Decision) => void>();
  /** The last ALLOW decision per accepted path, until it is committed: its evidence goes into the commit's note. */
  private readonly accepting = new AcceptingDecisions();
  private readonly idle = new IdleWaiters(
    () => this.isIdle(),
    async () => {
      if (this.committer) await this.committer.onIdle();
    },
  );
  private readonly guard: RootGuard;
  private readonly streams: WatchStreams;
  private readonly settler: Settler;
  private readonly queue: ClassifyQueue;
  private readonly store: StateStore;
  /** Files whose names are not valid UTF-8: held by layer 1, listed in status under their real names. */
  private readonly unnamable: UnnamableFiles;
  readonly intake: Intake;
  readonly rescanner: Rescanner;

  private committer: Committer | null = null;
  private syncer: SyncerHandle | null = null;
  /** The sync stage, loaded only when a remote is configured: a daemon without one never runs it. */
  private syncModule: typeof import('./sync/syncer.js') | null = null;
  private stopStateWatch: (() => void) | null = null;
  private readonly pause: PauseGate;
  private startedAt: number;
  private running = false;
  private stopping = false;
  private lockHeld = false;

  constructor(private readonly deps: ServiceDeps) {
    const { workspace, config, clock, fs } = deps;
    this.root = workspace.root;
    this.stateDir = workspace.stateDir;
    this.startedAt = clock.now();
    this.unnamable = new UnnamableFiles(workspace.root);
    this.pause = new PauseGate({ stateDir: this.stateDir, clock, fs, maxMs: config.pause.maxMs, pid: process.pid, logger: deps.logger, settled: async () => this.committer?.onIdle() });
    ({
      streams: this.streams,
      guard: this.guard,
      classifier: this.classifier,
      settler: this.settler,
      queue: this.queue,
      rescanner: this.rescanner,
      intake: this.intake,
      store: this.store,
    } = wireStages(deps, this.known, {
      submit: (paths) => {
        if (paths.length && this.committer) this.committer.submit(paths);
      },
      apply: (events, decisions) => this.apply(events, decisions),
      checkIdle: () => this.checkIdle(),
      lockHeld: () => this.lockHeld,
      collect: async () => {
        await this.pause.refresh();
        return {
          status: this.status(),
          pending: this.settler.pendingList().map(({ path, firstAt }) => ({ path, firstAt })),
          decisions: this.known.persisted(),
        };
      },
    }));
  }

  onDecision(l: (d: Decision) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  // ---------------------------------------------------------------- between the stages

  private async apply(events: WatchEvent[], decisions: Decision[]): Promise<void> {
    const { deps } = this;
    const r = await applyDecisions(
      {
        root: this.root,
        clock: deps.clock,
        fs: deps.fs,
        logger: deps.logger,
        known: this.known,
        settler: this.settler,
        reactions: this.reactions,
        quarantineOf: (path) => this.classifier.quarantineOf(path),
        dryRun: Boolean(deps.dryRun),
        configFile: deps.configFile,
        rootPresent: () => this.guard.check(),
        onDecision: (d) => {
          if (d.decision === 'ALLOW') this.accepting.note(d, deps.clock.now());
          for (const l of this.listeners) l(d);
        },
        onConfigFileChanged: (path) => void reportConfigChange({ root: this.root, config: deps.config, fs: deps.fs, logger: deps.logger }, path),
      },
      events,
      decisions,
    );
    if (!r) return;
    for (let i = 0; i < events.length; i++) {
      const d = decisions[i]!;
      if (d.rule !== 'builtin:invalid-utf8-name' || deps.dryRun) continue;
      void this.unnamable.note(events[i]!.path, d.reason, events[i]!.kind === 'delete').then(() => this.store.schedule());
    }
    // A directory moved into the tree brings files no watcher event names: ask git.
    if (r.dirAppeared) this.rescanner.scheduleBurst();
    this.settler.arm();
    // The commit's read of the person's index (~10–30 ms at 100k files) happens while the batch settles.
    if (decisions.some((d) => d.decision === 'ALLOW')) deps.git.prefetchIndex?.(this.settler.pendingList().map((p) => p.path));
    this.store.schedule();
  }

  private onCommitted(c: { sha: string; paths: string[]; atMs: number; message: string }): void {
    recordCommit(this.reactions, c.atMs);
    this.accepting.forget(c.paths);
    this.settler.done(c.paths);
    for (const p of c.paths) this.known.forget(p);
    this.store.schedule();
    this.syncer?.afterCommit();
    this.checkIdle();
  }

  private onDiscarded(c: { paths: string[]; reason: string }): void {
    this.accepting.forget(c.paths);
    this.settler.done(c.paths);
    this.store.schedule();
    this.checkIdle();
  }

  private onWatcherError(err: Error): void {
    this.deps.logger.log('warn', 'watcher error; rescanning with git status', { error: err.message });
    void this.guard.check();
    if (err.name === 'WatchLimitError') this.streams.limitReached(err.message);
    this.rescanner.scheduleBurst();
  }

  async commitPendingNow(): Promise<void> {
    if (!this.committer) return;
    const committer = this.committer;
    const all = this.settler.takeAll();
    // The syncer's own pause does not hold these commits (lifecycle/pause-gate.ts).
    await this.pause.forSync(async () => {
      if (all.length) committer.submit(all);
      else committer.kick();
      await committer.onIdle();
    });
  }

  // ---------------------------------------------------------------- idle and status

  private isIdle(): boolean {
    if (this.intake.busy() || this.queue.busy() || this.rescanner.busy()) return false;
    if (this.settler.waiting()) return false;
    if (!this.committer) return true;
    const cs = this.committer.status();
    return cs.inFlight.length === 0 && cs.queued.length === 0;
  }

  private checkIdle(): void {
    this.store.schedule();
    this.idle.check();
  }

  onIdle(): Promise<void> {
    return this.idle.wait();
  }

  status(): ServiceStatus {
    return buildStatus(
      {
        root: this.root,
        pid: process.pid,
        startedAt: this.startedAt,
        idle: this.isIdle(),
        pending: this.settler.pendingList(),
        committer: this.committerFacts(),
        pause: this.pause.current,
        counts: this.known.counts,
        evidence: this.classifier.evidenceModes(),
        quarantined: this.classifier.quarantined(),
        heldOnTiming: this.known.timingOnly(),
        watcher: { ...this.streams.mode, lastRescan: this.rescanner.lastRescan, unwatched: this.streams.unwatched().length },
        sync: this.syncer ? this.syncer.status() : null,
        configFile: this.deps.configFile,
        reactions: saveReactions(this.reactions),
      },
      this.deps.clock.now(),
    );
  }

  /** The committer's status, with the files no git call can name among the held ones. */
  private committerFacts() {
    if (!this.committer) return null;
    const cs = this.committer.status();
    const unnamable = this.unnamable.list();
    return unnamable.length ? { ...cs, held: [...cs.held, ...unnamable] } : cs;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Takes daemon.lock and replays the persisted state; the rate limit's counters are for the committer. */
  private async openState(): Promise<{ rateLimit: unknown }> {
    const { deps, root, stateDir } = this;
    const { clock } = deps;
    await deps.fs.mkdirp(stateDir);
    const got = await tryAcquireLock(join(stateDir, 'daemon.lock'), { root, ...HELD_LOCK_FIELDS });
    if (!got.ok) throw new AlreadyRunningError(got.holder, root);
    this.lockHeld = true;
    this.store.start();
    const saved = await this.store.load(clock.now());
    for (const p of saved.pending) this.settler.restore(p.path, p.firstAt, clock.now(), !deps.dryRun);
    this.known.load(saved.decisions);
    return { rateLimit: saved.rateLimit };
  }

  /** Starts the committer and the syncer (daemon.lock is held). */
  private async openCommitting(savedRateLimit: unknown): Promise<void> {
    const { deps, root } = this;
    ({ committer: this.committer, syncer: this.syncer, syncModule: this.syncModule } = await openCommitStages(deps, savedRateLimit, {
      isPaused: () => this.pause.holdsCommits(),
      onCommitted: (c) => this.onCommitted(c),
      onDiscarded: (c) => this.onDiscarded(c),
      checkIdle: () => this.checkIdle(),
      decisionFor: (p) => this.accepting.get(p),
      commitPending: () => this.commitPendingNow(),
      isQuiet: () => this.isIdle(),
      pause: () => this.pause.refresh(),
    }));
    await deps.registry?.register(root, process.pid).catch((e: Error) => deps.logger.log('warn', 'workspace registry not updated', { error: e.message }));
  }

  /** The state dir's own events: a pause signal raised or dropped, a `winnow sync` request. */
  private onStateDirChange(name: string): void {
    const { deps } = this;
    if (name === 'sync-request' && this.syncer && this.syncModule) {
      void this.syncModule.serveSyncRequest(this.syncer, this.stateDir, () => deps.clock.now()).catch((e: Error) =>
        deps.logger.log('warn', 'sync request failed', { error: e.message }),
      );
    }
    if (name === 'pause' || name.startsWith('pause')) {
      void this.pause.refresh().then(() => {
        this.committer?.kick();
        this.syncer?.pauseChanged();
        this.store.schedule();
      });
    }
  }

  async start(): Promise<void> {
    const { deps } = this;
    if (this.running) return;
    this.startedAt = deps.clock.now();
    // The folders git ignores are listed while the evidence starts; the subscription waits for them.
    void this.streams.prepare();
    await startUp({
      openState: () => (deps.dryRun ? Promise.resolve(null) : this.openState()),
      startEvidence: () => deps.startEvidence?.() ?? Promise.resolve(),
      abandonState: async () => {
        this.store.close();
        await releaseLock(join(this.stateDir, 'daemon.lock'));
        this.lockHeld = false;
      },
      openCommitting: (saved) => this.openCommitting(saved.rateLimit),
      subscribe: (onEvents) => {
        this.running = true;
        return this.streams.subscribe(onEvents, (err) => this.onWatcherError(err));
      },
      primeAndRecheck: async () => {
        await this.classifier.prime();
        if (deps.dryRun) return;
        const { classifier, settler, known, store } = this;
        const announce = (d: Decision) => this.listeners.forEach((l) => l(d));
        await recheckRestored({ classifier, settler, known, clock: deps.clock, logger: deps.logger, announce, changed: () => store.schedule() });
      },
      ingest: (events) => this.intake.ingest(events),
      // @parcel/watcher diffs its snapshot with the live tree; the per-folder watcher has none.
      catchUp: async () => this.rescanner.rescan('start', 'catchup', await this.streams.eventsSince()),
    });
    this.settler.arm();
    this.rescanner.armPeriodic();
    if (!deps.dryRun) {
      this.stopStateWatch = deps.watchStateDir?.((name) => this.onStateDirChange(name)) ?? null;
      await this.store.flush();
      this.committer?.warm(); // HEAD and the private git dir, not the private index (private-index.ts)
      void this.streams.writeSnapshots();
    }
    deps.logger.log('info', 'ready', {
      pid: process.pid,
      root: this.root,
      streams: this.streams.specs.map((s) => s.name),
      evidence: this.classifier.evidenceModes(),
    });
  }

  async stop(): Promise<void> {
    const { deps } = this;
    if (!this.running || this.stopping) return;
    this.stopping = true;
    this.intake.stop();
    this.queue.stop();
    this.rescanner.stop();
    this.settler.stop();
    this.stopStateWatch?.();
    await this.streams.close();
    await this.queue.current();
    const gone = this.guard.gone;
    if (this.syncer && !gone) await this.syncer.close().catch((e: Error) => deps.logger.log('warn', 'exit sync failed', { error: e.message }));
    if (this.committer) await this.committer.close();
    await this.classifier.close();
    if (this.lockHeld) {
      this.store.cancel();
      if (!this.guard.gone) await this.streams.writeSnapshots();
      await this.store.flush();
      if (!this.guard.gone) await releaseLock(join(this.stateDir, 'daemon.lock'));
      this.store.close();
      this.lockHeld = false;
      await deps.registry?.unregister(this.root).catch(() => undefined);
    }
    this.running = false;
    deps.logger.log('info', 'stopped', {});
  }
}
