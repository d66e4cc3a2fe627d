/**
 * The service wires the pipeline's stages, one folder each:
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
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config/defaults.js';
import type { RuleSet } from '../core/classify/rules.js';
import type { Decision } from '../core/decision.js';
import type { WatchEvent } from '../core/event.js';
import { createReactionState, recordCommit } from '../core/classify/reaction.js';
import { buildStatus, type ServiceStatus } from '../core/status.js';
import type { Clock, Fs, Git, Logger, ProcProbe, ProcessTable, ProcessTracer, Scheduler, Watcher, WriterTrace, MessageCommand } from '../ports/index.js';
import { applyDecisions } from './classify/apply.js';
import { createClassifier, type Classifier } from './classify/classifier.js';
import { fileIdentity, KnownDecisions } from './classify/known-decisions.js';
import { ClassifyQueue } from './classify/queue.js';
import { createCommitter, type Committer } from './commit/committer.js';
import { UnnamableFiles } from './commit/unnamable.js';
import { reportConfigChange } from './lifecycle/config-change.js';
import { tryAcquireLock, releaseLock, type LockInfo } from './lifecycle/lock.js';
import { readPause, type PauseSignal } from './lifecycle/pause.js';
import type { Registry } from './lifecycle/registry.js';
import { RootGuard } from './lifecycle/root-guard.js';
import { StateStore } from './lifecycle/state-store.js';
import type { Workspace } from '../core/workspace.js';
import { Settler } from './settle/settler.js';
import type { SyncerHandle } from './sync/syncer.js';
import { Intake } from './watch/intake.js';
import { Rescanner } from './watch/rescan.js';
import { WatchStreams } from './watch/streams.js';

export type { DecisionCounts, ServiceStatus } from '../core/status.js';
export { streamSpecs } from './watch/streams.js';
export { isStagedOnly } from './watch/rescan.js';

export interface ServiceDeps {
  /** Runs `commit.messageCommand` (adapters/message-command.ts). */
  messageCommand?: MessageCommand;
  workspace: Workspace;
  /** A git command of the person's running in the repository, or null (committer waits for it). */
  personGit?: () => Promise<{ pid: number; command: string } | null>;
  config: Config;
  rules: RuleSet;
  configFile: string | null;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  fs: Fs;
  git: Git;
  watcher: Watcher;
  processes: ProcessTable;
  trace: WriterTrace | null;
  /** Process tracing and declared writes (evidence rungs 2 and 3); null: neither. */
  tracer?: ProcessTracer | null;
  /** Process lineage beside fanotify (forkstat): whether it is active. */
  lineage?: { active(): boolean } | null;
  probe: ProcProbe;
  /** Watches the state dir (pause signal, sync requests); returns a closer. */
  watchStateDir?: (onChange: (name: string) => void) => () => void;
  /** Classify and report, never commit (`filter debug` without a running daemon). */
  dryRun?: boolean;
  /** This machine's name, for conflict copies (`NAME.conflict-HOST-DATE.EXT`). */
  hostname?: string;
  /** The global registry of workspaces (`winnow status --all`); none in tests unless given. */
  registry?: Registry | null;
  /**
   * Something the service cannot continue from (the workspace root vanished): the shell stops
   * the service and exits 1.
   */
  onFatal?: (message: string) => void;
}

export class AlreadyRunningError extends Error {
  override name = 'AlreadyRunningError';
  constructor(readonly holder: LockInfo, root: string) {
    super(`winnow is already running on ${root} (pid ${holder.pid}, since ${holder.takenAt}). Stop it with \`winnow stop\` first.`);
  }
}

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

/** Accepted paths whose deciding record is kept for the commit's note. */
const ACCEPTING_MAX = 20_000;

class DaemonService {
  private readonly root: string;
  private readonly stateDir: string;
  private readonly classifier: Classifier;
  private readonly known = new KnownDecisions();
  private readonly reactions = createReactionState();
  private readonly listeners = new Set<(d: Decision) => void>();
  /** The last ALLOW decision per accepted path, until it is committed: its evidence goes into the commit's note. */
  private readonly accepting = new Map<string, Decision & { at: number }>();
  private readonly idleWaiters = new Set<() => void>();
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
  /** Commits the syncer asked for (commitPendingNow) in progress: its own pause does not hold them. */
  private syncFlushes = 0;
  private pauseCache: PauseSignal | null = null;
  private startedAt: number;
  private running = false;
  private stopping = false;
  private lockHeld = false;

  constructor(private readonly deps: ServiceDeps) {
    const { workspace, config, clock, scheduler, logger, fs, git } = deps;
    this.root = workspace.root;
    this.stateDir = workspace.stateDir;
    this.startedAt = clock.now();
    this.unnamable = new UnnamableFiles(workspace.root);
    const { root, stateDir } = this;
    this.streams = new WatchStreams({ root, stateDir, config, watcher: deps.watcher, logger });
    this.guard = new RootGuard({ root, gitDir: workspace.gitDir, fs, logger, onFatal: deps.onFatal });
    this.classifier = createClassifier({
      root,
      stateDir,
      config,
      rules: deps.rules,
      git,
      fs,
      clock,
      logger,
      processes: deps.processes,
      trace: deps.trace,
      tracer: deps.tracer ?? null,
      lineage: deps.lineage ?? null,
      probe: deps.probe,
      scheduler,
    });
    this.settler = new Settler({
      clock,
      scheduler,
      debounce: config.debounce,
      present: (p) => {
        try {
          lstatSync(join(root, p));
          return true;
        } catch {
          return false;
        }
      },
      onDue: (paths) => {
        if (paths.length && this.committer) this.committer.submit(paths);
        this.checkIdle();
      },
    });
    this.queue = new ClassifyQueue({
      classifier: this.classifier,
      logger,
      apply: (events, decisions) => this.apply(events, decisions),
      onFailed: () => this.rescanner.scheduleBurst(),
      onDrained: () => this.checkIdle(),
    });
    this.rescanner = new Rescanner({
      clock,
      scheduler,
      logger,
      git,
      known: this.known,
      rescanMs: config.rescanMs,
      isAccepted: (path) => this.settler.isAccepted(path),
      identity: async (path) => (await fileIdentity(fs, root, path)).key,
      classify: (events) => this.queue.push(events),
      afterPeriodic: () => void this.streams.writeSnapshots(),
      onDone: () => this.checkIdle(),
    });
    this.intake = new Intake({
      scheduler,
      classify: (events) => void this.queue.push(events),
      onBurst: () => this.rescanner.scheduleBurst(),
      onActivity: () => this.rescanner.scheduleReconcile(),
    });
    this.store = new StateStore({
      stateDir,
      fs,
      scheduler,
      logger,
      writable: async () => this.lockHeld && !this.guard.gone && (await this.guard.check()),
      collect: async () => {
        this.pauseCache = await this.readPause();
        return {
          status: this.status(),
          pending: this.settler.pendingList().map(({ path, firstAt }) => ({ path, firstAt })),
          decisions: this.known.persisted(),
        };
      },
    });
  }

  private readPause(): Promise<PauseSignal | null> {
    return readPause(this.stateDir, this.deps.clock.now(), this.deps.config.pause.maxMs, this.deps.fs).catch(() => null);
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
        dryRun: Boolean(deps.dryRun),
        configFile: deps.configFile,
        rootPresent: () => this.guard.check(),
        onDecision: (d) => {
          if (d.decision === 'ALLOW') this.noteAccepting(d);
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
    this.store.schedule();
  }

  /** Bounded like the known decisions: the oldest goes first. */
  private noteAccepting(d: Decision): void {
    this.accepting.delete(d.path);
    this.accepting.set(d.path, { ...d, at: this.deps.clock.now() });
    if (this.accepting.size > ACCEPTING_MAX) this.accepting.delete(this.accepting.keys().next().value as string);
  }

  private onCommitted(c: { sha: string; paths: string[]; atMs: number; message: string }): void {
    recordCommit(this.reactions, c.atMs);
    for (const p of c.paths) this.accepting.delete(p);
    this.settler.done(c.paths);
    for (const p of c.paths) this.known.forget(p);
    this.store.schedule();
    this.syncer?.afterCommit();
    this.checkIdle();
  }

  private onDiscarded(c: { paths: string[]; reason: string }): void {
    for (const p of c.paths) this.accepting.delete(p);
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
    const all = this.settler.takeAll();
    this.syncFlushes++;
    try {
      if (all.length) this.committer.submit(all);
      else this.committer.kick();
      await this.committer.onIdle();
    } finally {
      this.syncFlushes--;
    }
  }

  /**
   * The pause signal as the committer sees it. The syncer raises its own pause (this PID) to hold
   * commits while it moves the branch, then asks for what is pending to be committed first: that
   * commit must not wait for its own pause (issue 11 case 14), anyone else's pause still holds it.
   */
  private async pausedForCommits(): Promise<boolean> {
    this.pauseCache = await this.readPause();
    const p = this.pauseCache;
    if (p === null) return false;
    return !(this.syncFlushes > 0 && p.pid === process.pid);
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
    if (!this.idleWaiters.size || !this.isIdle()) return;
    const ws = [...this.idleWaiters];
    this.idleWaiters.clear();
    for (const w of ws) w();
  }

  async onIdle(): Promise<void> {
    for (;;) {
      if (this.isIdle()) {
        if (this.committer) await this.committer.onIdle();
        if (this.isIdle()) return;
      }
      await new Promise<void>((r) => this.idleWaiters.add(r));
    }
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
        pause: this.pauseCache,
        counts: this.known.counts,
        evidence: this.classifier.evidenceModes(),
        quarantined: this.classifier.quarantined(),
        heldOnTiming: this.known.timingOnly(),
        watcher: { ...this.streams.mode, lastRescan: this.rescanner.lastRescan },
        sync: this.syncer ? this.syncer.status() : null,
        configFile: this.deps.configFile,
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

  /** Takes daemon.lock, replays the persisted state, and starts the committer and the syncer. */
  private async openState(): Promise<void> {
    const { deps, root, stateDir } = this;
    const { config, clock } = deps;
    await deps.fs.mkdirp(stateDir);
    const got = await tryAcquireLock(join(stateDir, 'daemon.lock'), { root });
    if (!got.ok) throw new AlreadyRunningError(got.holder, root);
    this.lockHeld = true;
    this.store.start();
    const saved = await this.store.load(clock.now());
    for (const p of saved.pending) this.settler.restore(p.path, p.firstAt, clock.now(), !deps.dryRun);
    this.known.load(saved.decisions);
    this.committer = createCommitter({
      git: deps.git,
      fs: deps.fs,
      clock,
      scheduler: deps.scheduler,
      logger: deps.logger,
      config,
      root,
      stateDir,
      isPaused: () => this.pausedForCommits(),
      onCommitted: (c) => this.onCommitted(c),
      onDiscarded: (c) => this.onDiscarded(c),
      // A commit's onCommitted comes while its paths are still in flight: idle is known only here.
      onPassEnd: () => this.checkIdle(),
      messageCommand: deps.messageCommand,
      decisionFor: (p) => this.accepting.get(p),
      savedRateLimit: saved.rateLimit,
      ...(deps.personGit ? { personGit: deps.personGit } : {}),
    });
    if (config.remote) {
      this.syncModule = await import('./sync/syncer.js');
      this.syncer = this.syncModule.createSyncer({
        root,
        gitDir: deps.workspace.gitDir,
        stateDir,
        config,
        clock,
        scheduler: deps.scheduler,
        logger: deps.logger,
        hostname: deps.hostname ?? 'localhost',
        git: deps.git.raw,
        commitPending: () => this.commitPendingNow(),
        isQuiet: () => this.isIdle(),
        pause: () => this.readPause(),
      });
    }
    await deps.registry?.register(root, process.pid).catch((e: Error) => deps.logger.log('warn', 'workspace registry not updated', { error: e.message }));
  }

  /**
   * Changes accepted before a restart (pending.json) were accepted under the rules of then. The
   * rules, `.gitignore` or a nested repository may say otherwise now: what layer 1 blocks today is
   * no longer committed (issue 11 case 12). A layer 2 or 3 answer is not taken back: the evidence
   * that accepted the change (who wrote it) is gone after a restart, and the person's change stays.
   */
  private async recheckRestored(): Promise<void> {
    const { deps } = this;
    const restored = this.settler.pendingList().map((p) => p.path);
    if (!restored.length) return;
    const now = deps.clock.now();
    let decisions: Decision[];
    try {
      decisions = await this.classifier.classify(restored.map((path) => ({ path, kind: 'update', stream: 'rescan', priority: 'normal', at: now, source: 'catchup' })));
    } catch (e) {
      deps.logger.log('warn', 'changes accepted before the restart could not be checked against the current rules; they stay accepted', { error: (e as Error).message });
      return;
    }
    for (const d of decisions) {
      if (d.decision !== 'BLOCK' || d.layer !== 1) continue;
      this.settler.forget(d.path);
      this.known.count(d);
      deps.logger.log('info', 'decision', { ...d });
      deps.logger.log('info', 'accepted before the restart, blocked by the current rules: not committed', { path: d.path, rule: d.rule, reason: d.reason });
      for (const l of this.listeners) l(d);
    }
    this.store.schedule();
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
      void this.readPause().then((p) => {
        this.pauseCache = p;
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
    if (!deps.dryRun) await this.openState();
    this.running = true;
    // Layer 2's first look at the autonomous processes, so the first change has a baseline.
    await this.classifier.prime();
    // Before anything arms the settle timer: a restored change the rules now block never falls due.
    if (!deps.dryRun) await this.recheckRestored();
    // Catch-up: what changed while winnow was down, from the watcher snapshot and `git status`.
    const since = await this.streams.eventsSince();
    await this.streams.subscribe(
      (events) => this.intake.ingest(events),
      (err) => this.onWatcherError(err),
    );
    await this.rescanner.rescan('start', 'catchup', since);
    this.settler.arm();
    this.rescanner.armPeriodic();
    if (!deps.dryRun) {
      this.stopStateWatch = deps.watchStateDir?.((name) => this.onStateDirChange(name)) ?? null;
      await this.store.flush();
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
