import { join, resolve, relative, isAbsolute } from 'node:path';
import type { Config } from '../core/config/defaults.js';
import type { RuleSet } from '../core/classify/rules.js';
import { timingOnly, type Decision } from '../core/decision.js';
import { coalesce, committableFirst, type WatchEvent, type Priority } from '../core/event.js';
import {
  createSettle,
  addChange,
  restorePending,
  takeDue,
  nextWake,
  type SettleState,
} from '../core/settle/settle.js';
import type {
  Clock,
  Fs,
  Git,
  Logger,
  ProcProbe,
  ProcessTable,
  Scheduler,
  StreamSpec,
  Watcher,
  WatcherSubscription,
  WriterTrace,
} from '../ports/index.js';
import { ConfigError, parseConfigText } from '../core/config/schema.js';
import { createClassifier, type Classifier, type EvidenceModes } from './classify/classifier.js';
import { createCommitter, type Committer } from './commit/committer.js';
import { tryAcquireLock, releaseLock, type LockInfo } from './lifecycle/lock.js';
import { readPause, type PauseSignal } from './lifecycle/pause.js';
import { createReactionState, isReaction, recordCommit, REACTION_DEFAULTS } from '../core/classify/reaction.js';
import { createSyncer, serveSyncRequest, type SyncerHandle } from './sync/syncer.js';
import type { Registry } from './lifecycle/registry.js';
import type { Workspace } from './lifecycle/workspace.js';

/** Low-priority streams are coalesced for this long before they are classified. */
const LOW_PRIORITY_COALESCE_MS = 250;
/** A watcher batch this large is a burst: reconcile with `git status` once it is over. */
const BURST_EVENTS = 500;
/** Quiet time after a burst before the reconciling rescan. */
const BURST_QUIET_MS = 1_000;
/**
 * After watcher activity, `git status` reconciles what the watcher may have dropped (SPEC: it
 * loses events silently at batch boundaries): once activity has been quiet for BURST_QUIET_MS, at
 * most every RECONCILE_MIN_MS, and never more often than 50× the last rescan's own duration so a
 * big repository spends at most ~2% of a core on it. Nothing runs while the tree is idle.
 */
const RECONCILE_MIN_MS = 5_000;
const RECONCILE_COST_FACTOR = 50;
/** state.json is rewritten at most this often. */
const STATE_FLUSH_MS = 100;
/** Config keys that decide what may be committed or who counts as autonomous. */
const SECURITY_KEYS = new Set(['secrets', 'rules', 'ruleFiles', 'defaultAction', 'autonomous', 'remote', 'health']);
/** Events classified per classifier call. */
const CLASSIFY_CHUNK = 1_000;
/** How many BLOCK decisions on dirty paths are remembered across restarts. */
const KNOWN_MAX = 20_000;
/** Paths kept for `status` as held back on timing alone (the oldest go first). */
const TIMING_ONLY_MAX = 200;

export interface ServiceDeps {
  workspace: Workspace;
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

interface Known {
  key: string;
  decision: Decision['decision'];
  layer: Decision['layer'];
  /** Set when the BLOCK rests on timing alone: kept across restarts for `status`. */
  timing?: { at: number; reason: string };
}

export interface DecisionCounts {
  ALLOW: number;
  BLOCK: number;
  byLayer: Record<'1' | '2' | '3', number>;
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
  watcher: { mode: 'live' | 'rescan-only'; reason: string | null; lastRescan: string | null };
  sync: unknown;
  configFile: string | null;
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

export function streamSpecs(root: string, config: Config): StreamSpec[] {
  return config.streams.map((s, i) => ({
    name: s.name,
    priority: s.priority as Priority,
    dirs: s.paths.map((p, j) => {
      const abs = isAbsolute(p) ? p : resolve(root, p);
      const rel = relative(root, abs);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        throw new ConfigError('config', `streams[${i}].paths[${j}]`, `"${p}" is outside the workspace ${root}.`);
      }
      return abs;
    }),
  }));
}

/** Porcelain v1 code of a change that is staged and not modified since in the work tree. */
export function isStagedOnly(code: string): boolean {
  const x = code[0] ?? ' ';
  const y = code[1] ?? ' ';
  return y === ' ' && x !== ' ' && x !== '?' && x !== '!';
}

export function createService(deps: ServiceDeps): Service {
  const { workspace, config, clock, scheduler, logger, fs, git } = deps;
  const { root, stateDir } = workspace;
  const streams = streamSpecs(root, config);
  const settle: SettleState = createSettle(config.debounce);
  const classifier: Classifier = createClassifier({
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
    probe: deps.probe,
    scheduler,
  });
  /** Accepted and not yet committed: path → first accepted time. Persisted in pending.json. */
  const accepted = new Map<string, number>();
  const known = new Map<string, Known>();
  const heldOnTiming = new Map<string, { at: number; reason: string }>();
  const reactions = createReactionState();
  const counts: DecisionCounts = { ALLOW: 0, BLOCK: 0, byLayer: { '1': 0, '2': 0, '3': 0 } };
  const listeners = new Set<(d: Decision) => void>();
  const idleWaiters = new Set<() => void>();

  let committer: Committer | null = null;
  let syncer: SyncerHandle | null = null;
  let rootGone = false;
  let queue: WatchEvent[] = [];
  let lowQueue: WatchEvent[] = [];
  let classifying: Promise<void> | null = null;
  let settleTimer: unknown = null;
  let settleTimerAt: number | null = null;
  let lowTimer: unknown = null;
  let rescanTimer: unknown = null;
  let burstTimer: unknown = null;
  let stateTimer: unknown = null;
  let rescanning: Promise<void> | null = null;
  let reconcileTimer: unknown = null;
  let lastRescanAt = 0;
  let lastRescanCostMs = 0;
  let subs: WatcherSubscription[] = [];
  let watcherMode: ServiceStatus['watcher'] = { mode: 'live', reason: null, lastRescan: null };
  let stopStateWatch: (() => void) | null = null;
  let pauseCache: PauseSignal | null = null;
  let startedAt = clock.now();
  let running = false;
  let stopping = false;
  let lockHeld = false;

  const file = (name: string) => join(stateDir, name);
  const log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) =>
    logger.log(level, msg, fields);

  // ---------------------------------------------------------------- decisions and settle

  async function statOf(path: string): Promise<{ key: string; mtimeMs: number | null }> {
    try {
      const st = await fs.stat(join(root, path));
      return st ? { key: `${st.size}:${st.mtimeMs}`, mtimeMs: st.mtimeMs } : { key: 'absent', mtimeMs: null };
    } catch {
      return { key: 'unknown', mtimeMs: null };
    }
  }

  async function statKey(path: string): Promise<string> {
    return (await statOf(path)).key;
  }

  function record(d: Decision): void {
    counts[d.decision]++;
    counts.byLayer[String(d.layer) as '1' | '2' | '3']++;
    log('info', 'decision', { ...d });
    for (const l of listeners) l(d);
  }

  /** A fanotify writer outside the autonomous set: a person's save, not churn. */
  function humanEvidence(d: Decision): boolean {
    const ev = d.evidence ?? [];
    const last = ev.filter((e) => e.kind === 'fanotify').pop();
    return Boolean(last && !last.autonomous && last.pid);
  }

  /** The workspace root (or its .git) is gone or moved: stop before anything is committed or written. */
  /** Keeps `heldOnTiming` (bounded, oldest out) in step with a path's latest decision. */
  function noteTiming(path: string, timing: { at: number; reason: string } | undefined): void {
    heldOnTiming.delete(path);
    if (!timing) return;
    heldOnTiming.set(path, timing);
    if (heldOnTiming.size > TIMING_ONLY_MAX) heldOnTiming.delete(heldOnTiming.keys().next().value as string);
  }

  async function checkRoot(): Promise<boolean> {
    if (rootGone) return false;
    const st = await fs.stat(join(workspace.gitDir, 'HEAD')).catch(() => null);
    if (st) return true;
    rootGone = true;
    const msg = `the workspace ${root} (or its git directory) vanished or moved; winnow stopped without committing the deletions. Start it again on the workspace's new location.`;
    log('error', 'workspace vanished', { root });
    deps.onFatal?.(msg);
    return false;
  }

  async function apply(events: WatchEvent[], decisions: Decision[]): Promise<void> {
    const now = clock.now();
    if (events.some((e) => e.kind === 'delete') && !(await checkRoot())) return;
    // Layer-1 answers depend on the path alone; only deeper decisions need the file's identity
    // (size:mtime) so a rescan does not re-judge an unchanged file without its evidence. Accepted
    // changes need their mtime too: their quiet window counts from the write.
    const stats = await Promise.all(
      events.map(async (e, i) => {
        const d = decisions[i]!;
        if (d.layer > 1) return statOf(e.path);
        if (d.decision === 'ALLOW' && e.kind !== 'delete') return { key: 'L1', mtimeMs: (await statOf(e.path)).mtimeMs };
        return { key: 'L1', mtimeMs: null };
      }),
    );
    let dirAppeared = false;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      let d = decisions[i]!;
      // An ANALYZE path accepted by layers 2–3 that keeps changing right after winnow's own
      // commits is a tool reacting to them: hold it back before it feeds a loop.
      // Only with autonomous write activity in the window (temporal evidence present): a person
      // saving right after a commit while no agent wrote anything is never taken for a reaction.
      const agentsActive = (d.evidence ?? []).some((x) => x.kind === 'temporal' || x.autonomous);
      const human = humanEvidence(d) || !agentsActive;
      if (d.decision === 'ALLOW' && d.layer > 1 && e.source === 'watch' && isReaction(reactions, e.path, e.at, human)) {
        d = {
          ...d,
          decision: 'BLOCK',
          layer: 2,
          rule: 'builtin:commit-reaction',
          reason: `changed within ${REACTION_DEFAULTS.windowMs} ms after each of winnow's last commits with no sign of a person: a tool reacting to commits (a loop); held until it changes away from a commit`,
        };
      }
      record(d);
      const timing = timingOnly(d) ? { at: now, reason: d.reason } : undefined;
      noteTiming(e.path, timing);
      if (known.size >= KNOWN_MAX) known.delete(known.keys().next().value as string);
      known.set(e.path, { key: stats[i]!.key, decision: d.decision, layer: d.layer, ...(timing ? { timing } : {}) });
      if (d.rule === 'builtin:directory' && e.kind !== 'delete') dirAppeared = true;
      if (deps.configFile && join(root, e.path) === deps.configFile && e.kind !== 'delete') void reportConfigChange(e.path);
      if (deps.dryRun) continue;
      if (d.decision === 'ALLOW') {
        if (!accepted.has(e.path)) accepted.set(e.path, now);
        // A person's own saves keep the base window; only unexplained repeats stretch it.
        addChange(settle, e.path, now, { heat: !humanEvidence(d), writtenAt: stats[i]!.mtimeMs ?? e.at });
      } else if (accepted.has(e.path) && settle.pending.has(e.path)) {
        // A change already accepted on human evidence stays accepted: later machine writes to the
        // same path ride along rather than drop what the person wrote (nothing is lost).
        addChange(settle, e.path, now);
      }
    }
    // A directory moved into the tree brings files no watcher event names: ask git.
    if (dirAppeared) scheduleBurstRescan();
    armSettleTimer();
    scheduleStateFlush();
  }

  /**
   * The config file changed on disk (an edit, or a pull): the running config stays as it was —
   * a change is applied on the next start, never silently — and the keys that differ are named,
   * security-relevant ones (what may be committed, who counts as autonomous) at warn level.
   */
  async function reportConfigChange(path: string): Promise<void> {
    let next: Config;
    try {
      next = parseConfigText((await fs.readFile(join(root, path))).toString('utf8'), path);
    } catch (e) {
      log('warn', 'the config file changed on disk and is not valid; the running config stays', { path, error: (e as Error).message });
      return;
    }
    const changed = Object.keys(next).filter(
      (k) => JSON.stringify((next as Record<string, unknown>)[k]) !== JSON.stringify((config as Record<string, unknown>)[k]),
    );
    if (!changed.length) return;
    const sensitive = changed.filter((k) => SECURITY_KEYS.has(k) || (k === 'commit' && next.commit.hooks !== config.commit.hooks));
    log(sensitive.length ? 'warn' : 'info', `the config file ${path} changed on disk; not applied until winnow restarts`, {
      path,
      changedKeys: changed,
      ...(sensitive.length ? { securityRelevant: sensitive } : {}),
    });
  }

  async function classifyLoop(): Promise<void> {
    while (queue.length) {
      // Coalesce everything queued, then classify in bounded chunks: a storm of 20k events is
      // never one 20k-path batch in memory at once, and what is queued behind it keeps moving.
      if (queue.length > CLASSIFY_CHUNK) {
        // A storm: what the rules do not block goes first (see committableFirst).
        queue = committableFirst(coalesce(queue), classifier.blockedByRule);
      }
      const all = coalesce(queue.splice(0, CLASSIFY_CHUNK));
      // Names that are not valid UTF-8 reach us with U+FFFD in place of the bad bytes: any git
      // call with that string would name another file. Hold them back and say so.
      const unnamable = all.filter((e) => e.path.includes('\uFFFD'));
      if (unnamable.length) {
        await apply(
          unnamable,
          unnamable.map((e) => ({
            path: e.path,
            decision: 'BLOCK' as const,
            layer: 1 as const,
            rule: 'builtin:invalid-utf8-name',
            reason: 'held back: the file name is not valid UTF-8, so winnow cannot name it to git safely; rename it, or commit it by hand',
          })),
        );
      }
      const batch = unnamable.length ? all.filter((e) => !e.path.includes('\uFFFD')) : all;
      if (!batch.length) continue;
      let decisions: Decision[];
      try {
        decisions = await classifier.classify(batch);
      } catch (e) {
        log('error', 'classification failed; a rescan will retry these paths', {
          error: (e as Error).message,
          paths: batch.length,
        });
        scheduleBurstRescan();
        continue;
      }
      await apply(batch, decisions);
      // Layer-1 answers resolve without I/O, so a storm's chunks would run back to back as
      // microtasks: let timers and I/O in between (the settle timer, the committer's git
      // children), or a person's due change waits for the whole storm to be classified.
      if (queue.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  function kickClassify(): void {
    if (classifying || stopping) return;
    classifying = classifyLoop().finally(() => {
      classifying = null;
      if (queue.length) kickClassify();
      else checkIdle();
    });
  }

  function ingest(events: WatchEvent[]): void {
    if (!events.length || stopping) return;
    const low = events.filter((e) => e.priority === 'low');
    const rest = low.length ? events.filter((e) => e.priority !== 'low') : events;
    if (rest.length) {
      queue.push(...rest);
      kickClassify();
    }
    if (low.length) {
      lowQueue.push(...low);
      if (!lowTimer) {
        lowTimer = scheduler.setTimeout(() => {
          lowTimer = null;
          queue.push(...lowQueue.splice(0));
          kickClassify();
        }, LOW_PRIORITY_COALESCE_MS);
      }
    }
    if (events.length >= BURST_EVENTS) scheduleBurstRescan();
    else if (events.some((e) => e.source === 'watch')) scheduleReconcile();
  }

  function scheduleReconcile(): void {
    if (stopping) return;
    if (reconcileTimer) scheduler.clearTimeout(reconcileTimer);
    const now = clock.now();
    const gap = Math.max(RECONCILE_MIN_MS, lastRescanCostMs * RECONCILE_COST_FACTOR);
    const delay = Math.max(BURST_QUIET_MS, lastRescanAt + gap - now);
    reconcileTimer = scheduler.setTimeout(() => {
      reconcileTimer = null;
      void rescan('reconcile after watcher activity');
    }, delay);
  }

  function armSettleTimer(): void {
    const at = nextWake(settle);
    if (at === settleTimerAt) return;
    if (settleTimer) scheduler.clearTimeout(settleTimer);
    settleTimer = null;
    settleTimerAt = at;
    if (at === null) return;
    settleTimer = scheduler.setTimeout(onSettleTimer, Math.max(0, at - clock.now()));
  }

  function onSettleTimer(): void {
    settleTimer = null;
    settleTimerAt = null;
    const due = takeDue(settle, clock.now());
    if (due.length && committer) committer.submit(due.map((p) => p.path));
    armSettleTimer();
    scheduleStateFlush();
    checkIdle();
  }

  function onCommitted(c: { sha: string; paths: string[]; atMs: number; message: string }): void {
    recordCommit(reactions, c.atMs);
    for (const p of c.paths) {
      if (!settle.pending.has(p)) accepted.delete(p);
      known.delete(p);
      heldOnTiming.delete(p);
    }
    scheduleStateFlush();
    syncer?.afterCommit();
    checkIdle();
  }

  function onDiscarded(c: { paths: string[]; reason: string }): void {
    for (const p of c.paths) if (!settle.pending.has(p)) accepted.delete(p);
    scheduleStateFlush();
    checkIdle();
  }

  // ---------------------------------------------------------------- rescans (git status is the truth)

  async function doRescan(reason: string, source: 'rescan' | 'catchup', extra: WatchEvent[] = []): Promise<void> {
    const now = clock.now();
    lastRescanAt = now;
    let entries;
    try {
      entries = await git.status();
      lastRescanCostMs = clock.now() - now;
    } catch (e) {
      log('warn', 'rescan failed', { reason, error: (e as Error).message });
      return;
    }
    const candidates = new Set<string>(extra.map((e) => e.path));
    const stagedByHand = new Set<string>();
    for (const en of entries) {
      // Staged by the person and untouched since (`A `, `M `, `D `): they are composing a commit
      // by hand; a rescan leaves it to them. A later edit of the file arrives as a watch event.
      if (isStagedOnly(en.code)) {
        stagedByHand.add(en.path);
        continue;
      }
      candidates.add(en.path);
      if (en.from) candidates.add(en.from);
    }
    const events: WatchEvent[] = [];
    for (const path of candidates) {
      if (accepted.has(path) || stagedByHand.has(path)) continue;
      const prior = known.get(path);
      if (prior && ((prior.key === 'L1' && prior.decision === 'BLOCK') || prior.key === (await statKey(path)))) continue;
      events.push({ path, kind: 'update', stream: 'rescan', priority: 'normal', at: now, source });
    }
    // Blocked paths that are clean again no longer need remembering.
    const dirty = new Set(entries.map((e) => e.path));
    for (const [p, k] of known) {
      if (k.decision === 'BLOCK' && !dirty.has(p)) {
        known.delete(p);
        heldOnTiming.delete(p);
      }
    }
    watcherMode = { ...watcherMode, lastRescan: new Date(now).toISOString() };
    log('debug', 'rescan', { reason, changed: entries.length, classified: events.length });
    if (events.length) {
      queue.push(...events);
      kickClassify();
      await classifying;
    }
    scheduleStateFlush();
  }

  function rescan(reason: string, source: 'rescan' | 'catchup' = 'rescan', extra: WatchEvent[] = []): Promise<void> {
    if (rescanning) return rescanning;
    rescanning = doRescan(reason, source, extra).finally(() => {
      rescanning = null;
      checkIdle();
    });
    return rescanning;
  }

  function armRescanTimer(): void {
    if (rescanTimer) scheduler.clearTimeout(rescanTimer);
    rescanTimer = null;
    if (!config.rescanMs || stopping) return;
    rescanTimer = scheduler.setTimeout(() => {
      rescanTimer = null;
      void rescan('timer').finally(() => {
        void writeSnapshots();
        armRescanTimer();
      });
    }, config.rescanMs);
  }

  function scheduleBurstRescan(): void {
    if (burstTimer) scheduler.clearTimeout(burstTimer);
    burstTimer = scheduler.setTimeout(() => {
      burstTimer = null;
      void rescan('after a burst of events');
    }, BURST_QUIET_MS);
  }

  function onWatcherError(err: Error): void {
    log('warn', 'watcher error; rescanning with git status', { error: err.message });
    void checkRoot();
    if (err.name === 'WatchLimitError') watcherMode = { ...watcherMode, mode: 'rescan-only', reason: err.message };
    scheduleBurstRescan();
  }

  async function writeSnapshots(): Promise<void> {
    for (const s of streams) {
      await deps.watcher.writeSnapshot(s, file(`watcher-${s.name}.snapshot`)).catch((e: Error) =>
        log('debug', 'watcher snapshot not written', { stream: s.name, error: e.message }),
      );
    }
  }

  // ---------------------------------------------------------------- state files

  async function loadPersisted(): Promise<void> {
    const now = clock.now();
    try {
      const pending = JSON.parse((await fs.readFile(file('pending.json'))).toString('utf8')) as { path: string; firstAt: number }[];
      if (!Array.isArray(pending)) throw new Error('not an array');
      for (const p of pending) {
        if (typeof p?.path !== 'string') continue;
        const firstAt = typeof p.firstAt === 'number' ? p.firstAt : now;
        accepted.set(p.path, firstAt);
        if (!deps.dryRun) restorePending(settle, p.path, firstAt, now);
      }
      if (pending.length) log('info', 'replaying accepted changes from before the restart', { paths: pending.length });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        log('warn', 'pending.json was unreadable and is discarded; a full rescan finds every change', { error: (e as Error).message });
      }
    }
    try {
      const k = JSON.parse((await fs.readFile(file('decisions.json'))).toString('utf8')) as Record<string, Known>;
      const timings: [string, { at: number; reason: string }][] = [];
      for (const [p, v] of Object.entries(k)) {
        if (!v || typeof v.key !== 'string') continue;
        known.set(p, v);
        if (v.timing && typeof v.timing.at === 'number' && typeof v.timing.reason === 'string') timings.push([p, v.timing]);
      }
      for (const [p, t] of timings.sort((a, b) => a[1].at - b[1].at)) noteTiming(p, t);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        log('warn', 'decisions.json was unreadable and is discarded; paths are classified afresh', { error: (e as Error).message });
      }
    }
  }

  function pendingList(): { path: string; firstAt: number; dueAt: number | null }[] {
    const out: { path: string; firstAt: number; dueAt: number | null }[] = [];
    for (const [path, firstAt] of accepted) out.push({ path, firstAt, dueAt: settle.pending.get(path)?.dueAt ?? null });
    return out.sort((a, b) => a.firstAt - b.firstAt);
  }

  function scheduleStateFlush(): void {
    if (stateTimer || !lockHeld) return;
    stateTimer = scheduler.setTimeout(() => {
      stateTimer = null;
      void flushState();
    }, STATE_FLUSH_MS);
  }

  let flushing: Promise<void> = Promise.resolve();
  function flushState(): Promise<void> {
    flushing = flushing.then(async () => {
      // Never recreate a vanished workspace's state dir by writing into it.
      if (!lockHeld || rootGone || !(await checkRoot())) return;
      pauseCache = await readPause(stateDir, clock.now(), config.pause.maxMs).catch(() => null);
      const st = status();
      const blockedKnown: Record<string, Known> = {};
      for (const [p, k] of known) if (k.decision === 'BLOCK' && k.layer !== 1) blockedKnown[p] = k;
      try {
        await fs.writeFileAtomic(file('pending.json'), JSON.stringify(pendingList().map(({ path, firstAt }) => ({ path, firstAt }))));
        await fs.writeFileAtomic(file('decisions.json'), JSON.stringify(blockedKnown));
        await fs.writeFileAtomic(file('state.json'), JSON.stringify(st, null, 2) + '\n');
      } catch (e) {
        log('warn', 'state files not written', { error: (e as Error).message });
      }
    });
    return flushing;
  }

  // ---------------------------------------------------------------- idle

  function isIdle(): boolean {
    if (queue.length || lowQueue.length || classifying || rescanning) return false;
    if (settle.pending.size) return false;
    if (!committer) return true;
    const cs = committer.status();
    return cs.inFlight.length === 0 && cs.queued.length === 0;
  }

  function checkIdle(): void {
    scheduleStateFlush();
    if (!idleWaiters.size || !isIdle()) return;
    const ws = [...idleWaiters];
    idleWaiters.clear();
    for (const w of ws) w();
  }

  async function onIdle(): Promise<void> {
    for (;;) {
      if (isIdle()) {
        if (committer) await committer.onIdle();
        if (isIdle()) return;
      }
      await new Promise<void>((r) => idleWaiters.add(r));
    }
  }

  // ---------------------------------------------------------------- status

  function status(): ServiceStatus {
    const now = clock.now();
    const cs = committer?.status();
    const pause = pauseCache;
    let waiting = cs?.waiting ?? null;
    if (pause && now < pause.expiresAt) waiting = `paused by pid ${pause.pid} (${pause.reason}) until ${new Date(pause.expiresAt).toISOString()}`;
    if (watcherMode.mode === 'rescan-only' && !waiting) waiting = null;
    const quarantined = classifier.quarantined();
    return {
      version: 1,
      workspace: root,
      pid: process.pid,
      startedAt: new Date(startedAt).toISOString(),
      updatedAt: new Date(now).toISOString(),
      idle: isIdle(),
      pending: pendingList().map((p) => ({
        path: p.path,
        firstAt: new Date(p.firstAt).toISOString(),
        dueAt: p.dueAt === null ? null : new Date(p.dueAt).toISOString(),
      })),
      waiting,
      lastCommits: (cs?.lastCommits ?? []).map((c) => ({ ...c, at: new Date(c.at).toISOString() })),
      rateLimit: cs?.rateLimit ?? null,
      breaker: cs?.breaker ?? null,
      pause: pause
        ? { pid: pause.pid, at: new Date(pause.at).toISOString(), reason: pause.reason, expiresAt: new Date(pause.expiresAt).toISOString() }
        : null,
      decisions: counts,
      evidence: classifier.evidenceModes(),
      quarantined,
      held: cs?.held ?? [],
      timingOnly: [...heldOnTiming]
        .filter(([path]) => !quarantined.some((q) => q.path === path))
        .sort((a, b) => b[1].at - a[1].at)
        .slice(0, 50)
        .map(([path, x]) => ({ path, at: new Date(x.at).toISOString(), reason: x.reason })),
      watcher: watcherMode,
      sync: syncer ? syncer.status() : null,
      configFile: deps.configFile,
    };
  }

  // ---------------------------------------------------------------- lifecycle

  async function start(): Promise<void> {
    if (running) return;
    startedAt = clock.now();
    if (!deps.dryRun) {
      await fs.mkdirp(stateDir);
      const got = await tryAcquireLock(file('daemon.lock'), { root });
      if (!got.ok) throw new AlreadyRunningError(got.holder, root);
      lockHeld = true;
      await loadPersisted();
      committer = createCommitter({
        git,
        fs,
        clock,
        scheduler,
        logger,
        config,
        root,
        stateDir,
        isPaused: async () => {
          pauseCache = await readPause(stateDir, clock.now(), config.pause.maxMs).catch(() => null);
          return pauseCache !== null;
        },
        onCommitted,
        onDiscarded,
      });
      if (config.remote) {
        syncer = createSyncer({
          root,
          gitDir: workspace.gitDir,
          stateDir,
          config,
          clock,
          scheduler,
          logger,
          hostname: deps.hostname ?? 'localhost',
          commitPending: commitPendingNow,
        });
      }
      await deps.registry?.register(root, process.pid).catch((e: Error) => log('warn', 'workspace registry not updated', { error: e.message }));
    }
    running = true;
    // Layer 2's first look at the autonomous processes, so the first change has a baseline.
    await classifier.prime();
    // Catch-up: what changed while winnow was down, from the watcher snapshot and `git status`.
    const since: WatchEvent[] = [];
    for (const s of streams) since.push(...(await deps.watcher.eventsSince(s, file(`watcher-${s.name}.snapshot`))));
    for (const s of streams) {
      try {
        subs.push(await deps.watcher.subscribe(s, ingest, onWatcherError));
      } catch (e) {
        watcherMode = { mode: 'rescan-only', reason: (e as Error).message, lastRescan: null };
        log('warn', 'watcher unavailable; falling back to rescans with git status', { stream: s.name, error: (e as Error).message });
      }
    }
    await rescan('start', 'catchup', since);
    armSettleTimer();
    armRescanTimer();
    if (!deps.dryRun) {
      stopStateWatch =
        deps.watchStateDir?.((name) => {
          if (name === 'sync-request' && syncer) {
            const sy = syncer;
            void serveSyncRequest(sy, stateDir, () => clock.now()).catch((e: Error) => log('warn', 'sync request failed', { error: e.message }));
          }
          if (name === 'pause' || name.startsWith('pause')) {
            void readPause(stateDir, clock.now(), config.pause.maxMs).then((p) => {
              pauseCache = p;
              committer?.kick();
              scheduleStateFlush();
            });
          }
        }) ?? null;
      await flushState();
      void writeSnapshots();
    }
    log('info', 'ready', { pid: process.pid, root, streams: streams.map((s) => s.name), evidence: classifier.evidenceModes() });
  }

  async function stop(): Promise<void> {
    if (!running || stopping) return;
    stopping = true;
    for (const t of [settleTimer, lowTimer, rescanTimer, burstTimer, reconcileTimer]) if (t) scheduler.clearTimeout(t);
    settleTimer = lowTimer = rescanTimer = burstTimer = reconcileTimer = null;
    stopStateWatch?.();
    await Promise.all(subs.map((s) => s.close()));
    subs = [];
    await classifying;
    if (syncer && !rootGone) await syncer.close().catch((e: Error) => log('warn', 'exit sync failed', { error: e.message }));
    if (committer) await committer.close();
    await classifier.close();
    if (lockHeld) {
      if (stateTimer) scheduler.clearTimeout(stateTimer);
      stateTimer = null;
      if (!rootGone) await writeSnapshots();
      await flushState();
      if (!rootGone) await releaseLock(file('daemon.lock'));
      lockHeld = false;
      await deps.registry?.unregister(root).catch(() => undefined);
    }
    running = false;
    log('info', 'stopped', {});
  }

  async function commitPendingNow(): Promise<void> {
    if (!committer) return;
    const all = [...settle.pending.keys()];
    for (const p of all) settle.pending.delete(p);
    armSettleTimer();
    if (all.length) committer.submit(all);
    await committer.onIdle();
  }

  return {
    start,
    stop,
    onIdle,
    status,
    ingest,
    rescan: (reason) => rescan(reason),
    onDecision(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    commitPendingNow,
  };
}
