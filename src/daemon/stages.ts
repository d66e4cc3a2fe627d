/**
 * The pipeline's stages, built and connected to each other: watch (streams, intake, rescan) →
 * classify (queue, classifier) → settle (settler) → commit (committer) → sync (syncer). The
 * committer and the syncer are built once the service holds daemon.lock (`openCommitStages`);
 * settle hands due paths to them through `hooks.submit`. The lifecycle's root guard and state
 * store are built here too. service.ts starts and stops them.
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { PauseSignal } from './lifecycle/pause.js';
import type { Decision } from '../core/decision.js';
import type { WatchEvent } from '../core/event.js';
import type { ServiceStatus } from '../core/status.js';
import { createClassifier, type Classifier } from './classify/classifier.js';
import { AutoMaintenance } from './commit/maintenance.js';
import { createCommitter, type Committer, type CommitterDeps } from './commit/committer.js';
import { fileIdentity, type KnownDecisions } from './classify/known-decisions.js';
import { ClassifyQueue } from './classify/queue.js';
import { RootGuard } from './lifecycle/root-guard.js';
import { StateStore, type PersistedState } from './lifecycle/state-store.js';
import { Settler } from './settle/settler.js';
import { Intake } from './watch/intake.js';
import { Rescanner } from './watch/rescan.js';
import { WatchStreams } from './watch/streams.js';
import { listIgnoredDirs } from './watch/ignored-dirs.js';
import type { ServiceDeps } from './service-deps.js';
import type { SyncerHandle } from './sync/syncer.js';

export interface Stages {
  streams: WatchStreams;
  guard: RootGuard;
  classifier: Classifier;
  settler: Settler;
  queue: ClassifyQueue;
  rescanner: Rescanner;
  intake: Intake;
  store: StateStore;
}

/** What the stages need from the service that owns them. */
export interface StageHooks {
  /** Settled paths, due for the committer. */
  submit(paths: string[]): void;
  /** The classifier's decisions for `events`: finalize, count, remember, hand to settle. */
  apply(events: WatchEvent[], decisions: Decision[]): Promise<void>;
  /** A stage may have gone idle (and the state changed). */
  checkIdle(): void;
  /** The service holds daemon.lock (only then are state files written). */
  lockHeld(): boolean;
  /** What the state store writes now. */
  collect(): Promise<PersistedState & { status: ServiceStatus }>;
}

export function wireStages(deps: ServiceDeps, known: KnownDecisions, hooks: StageHooks): Stages {
  const { workspace, config, clock, scheduler, logger, fs, git } = deps;
  const { root, stateDir } = workspace;
  const streams = new WatchStreams({
    root,
    stateDir,
    config,
    watcher: deps.watcher,
    logger,
    ignoredDirs: () => listIgnoredDirs(git.raw),
    onIgnoredChanged: () => rescanner.scheduleBurst(),
  });
  const guard = new RootGuard({ root, gitDir: workspace.gitDir, fs, logger, onFatal: deps.onFatal });
  const classifier = createClassifier({
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
  const settler = new Settler({
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
      hooks.submit(paths);
      hooks.checkIdle();
    },
  });
  // The queue, the rescanner and the intake call each other: each is reached through its binding.
  const queue: ClassifyQueue = new ClassifyQueue({
    classifier,
    logger,
    apply: (events, decisions) => hooks.apply(events, decisions),
    onFailed: () => rescanner.scheduleBurst(),
    onDrained: () => hooks.checkIdle(),
  });
  const rescanner: Rescanner = new Rescanner({
    clock,
    scheduler,
    logger,
    git,
    known,
    rescanMs: config.rescanMs,
    isAccepted: (path) => settler.isAccepted(path),
    blockedByRule: (path) => classifier.blockedByRule(path),
    identity: async (path) => (await fileIdentity(fs, root, path)).key,
    classify: (events) => queue.push(events),
    afterPeriodic: () => void streams.writeSnapshots(),
    onDone: () => hooks.checkIdle(),
  });
  const intake = new Intake({
    scheduler,
    classify: (events) => void queue.push(events),
    onBurst: () => rescanner.scheduleBurst(),
    onActivity: () => rescanner.scheduleReconcile(),
  });
  const store = new StateStore({
    stateDir,
    fs,
    scheduler,
    logger,
    writable: async () => hooks.lockHeld() && !guard.gone && (await guard.check()),
    collect: () => hooks.collect(),
  });
  return { streams, guard, classifier, settler, queue, rescanner, intake, store };
}

/** What the committer and the syncer need from the service. */
export interface CommitHooks {
  /** The pause signal holds commits now. */
  isPaused(): Promise<boolean>;
  onCommitted: NonNullable<CommitterDeps['onCommitted']>;
  onDiscarded: NonNullable<CommitterDeps['onDiscarded']>;
  checkIdle(): void;
  /** The decision that accepted `path`, for the commit's note. */
  decisionFor: NonNullable<CommitterDeps['decisionFor']>;
  /** Commits everything accepted now (the syncer, before it moves the branch). */
  commitPending(): Promise<void>;
  /** Nothing is queued, classifying, pending or committing. */
  isQuiet(): boolean;
  /** The pause signal read through the daemon's Fs port (syncs wait for someone else's). */
  pause(): Promise<PauseSignal | null>;
}

export interface CommitStages {
  committer: Committer;
  syncer: SyncerHandle | null;
  /** The sync stage, loaded only when a remote is configured: a daemon without one never runs it. */
  syncModule: typeof import('./sync/syncer.js') | null;
}

/** The committer, and the syncer when a remote is configured: started once daemon.lock is held. */
export async function openCommitStages(deps: ServiceDeps, savedRateLimit: unknown, hooks: CommitHooks): Promise<CommitStages> {
  const { workspace, config, clock } = deps;
  const { root, stateDir } = workspace;
  const maintenance = new AutoMaintenance({ git: deps.git.raw, clock, logger: deps.logger });
  const committer = createCommitter({
    git: deps.git,
    fs: deps.fs,
    clock,
    scheduler: deps.scheduler,
    logger: deps.logger,
    config,
    root,
    stateDir,
    isPaused: () => hooks.isPaused(),
    onCommitted: (c) => {
      hooks.onCommitted(c);
      maintenance.afterCommit();
    },
    onDiscarded: (c) => hooks.onDiscarded(c),
    // A commit's onCommitted comes while its paths are still in flight: idle is known only here.
    onPassEnd: () => hooks.checkIdle(),
    messageCommand: deps.messageCommand,
    decisionFor: (p) => hooks.decisionFor(p),
    savedRateLimit,
    ...(deps.personGit ? { personGit: deps.personGit } : {}),
  });
  if (!config.remote) return { committer, syncer: null, syncModule: null };
  const syncModule = await import('./sync/syncer.js');
  const syncer = syncModule.createSyncer({
    root,
    gitDir: workspace.gitDir,
    stateDir,
    config,
    clock,
    scheduler: deps.scheduler,
    logger: deps.logger,
    hostname: deps.hostname ?? 'localhost',
    git: deps.git.raw,
    commitPending: () => hooks.commitPending(),
    isQuiet: () => hooks.isQuiet(),
    pause: () => hooks.pause(),
  });
  return { committer, syncer, syncModule };
}
