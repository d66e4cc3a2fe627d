/**
 * Sync with a remote (SPEC "Sync with a remote").
 *
 * One sync: sync lock → pause signal → snapshot → commit pending → fetch → integrate → push →
 * drop pause → release → audit line → prune snapshots.
 *
 * How uncommitted work is kept (no stash, no rebase in the person's work tree): local commits
 * are replayed onto the remote tip with `git merge-tree --write-tree` (git ≥ 2.38) and
 * `commit-tree` — object
 * plumbing that never touches the work tree, the index or the stash, so a conflict under
 * `manual` leaves literally nothing to undo and a SIGKILL at any point leaves only unreferenced
 * objects. The branch then moves with `git read-tree -m -u OLD NEW` (what `git checkout` does:
 * it carries uncommitted changes along and refuses, changing nothing, when one would be
 * overwritten) followed by a compare-and-swap `update-ref`. A journal covers the gap between
 * the two.
 */
import { appendFile, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../core/config/defaults.js';
import type { Clock, Logger, Scheduler } from '../../ports/index.js';
import {
  EMPTY_QUEUE, enqueue, take, gate, onFailure, onSuccess, breakerOpen, nextAfterCommit, CLOSED_BREAKER, AHEAD_THRESHOLD,
  planResolution, classifyGitFailure, isTransient,
  type SyncPriority, type SyncQueue, type QueuedSync, type BreakerState, type ConflictedPath, type SyncFailure,
} from '../../core/sync/index.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { acquireLock, LockTimeoutError } from '../lifecycle/lock-manager.js';
import { raisePause, dropPause, parsePause, pauseFile } from '../lifecycle/pause.js';
import { readLock, isStale } from '../lifecycle/lock.js';
import { createSnapshot, pruneSnapshots, type SnapshotEnv } from './snapshots.js';
import { spawnGitRunner, gitText, SyncGitError, type GitRunner } from './sync-git.js';

export type { SyncPriority } from '../../core/sync/index.js';

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
  /** Git runner (tests wrap it to inject failures); default: spawned git, non-interactive, with timeouts. */
  git?: GitRunner;
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

interface PersistedState {
  version: 1;
  seq: number;
  lastSync: SyncStatus['lastSync'];
  lastAttemptAt: number | null;
  breaker: BreakerState;
  stopped: { reason: string; files: string[]; remote: string | null } | null;
  ahead: number;
  behind: number;
}

const STATE_FILE = 'sync-state.json';
const AUDIT_FILE = 'sync.log';
const AUDIT_ROTATE_BYTES = 1024 * 1024;
const JOURNAL_FILE = 'sync-journal.json';
const REQUEST_FILE = 'sync-request';
const RESULT_FILE = 'sync-result.json';
/** A push that the remote rejects because it moved meanwhile gets this many fresh pull+push rounds. */
const PUSH_ROUNDS = 3;

// ---------------------------------------------------------------------------------------------
// Request / result files: how `winnow sync` talks to a running daemon.

export interface SyncRequestFile {
  reason: string;
  force: boolean;
  /** Epoch ms; the result file echoes it so the CLI knows the answer is to its request. */
  at: number;
}

export interface SyncResultFile {
  requestAt: number;
  at: number;
  ok: boolean;
  message: string;
}

export function syncRequestPath(stateDir: string): string {
  return join(stateDir, REQUEST_FILE);
}

export function syncResultPath(stateDir: string): string {
  return join(stateDir, RESULT_FILE);
}

export async function writeSyncRequest(stateDir: string, r: SyncRequestFile): Promise<void> {
  await writeFileAtomic(syncRequestPath(stateDir), JSON.stringify(r) + '\n');
}

/** The waiting request, or null (absent or unreadable). */
export async function readSyncRequest(stateDir: string): Promise<SyncRequestFile | null> {
  try {
    const r = JSON.parse(await readFile(syncRequestPath(stateDir), 'utf8')) as Partial<SyncRequestFile>;
    return { reason: typeof r.reason === 'string' ? r.reason : 'winnow sync', force: Boolean(r.force), at: typeof r.at === 'number' ? r.at : 0 };
  } catch {
    return null;
  }
}

export async function clearSyncRequest(stateDir: string): Promise<void> {
  await unlink(syncRequestPath(stateDir)).catch(() => undefined);
}

export async function readSyncResult(stateDir: string): Promise<SyncResultFile | null> {
  try {
    return JSON.parse(await readFile(syncResultPath(stateDir), 'utf8')) as SyncResultFile;
  } catch {
    return null;
  }
}

/**
 * The daemon's side of `winnow sync`: picks up the request file (if any), clears it, runs it
 * at manual priority and writes the result file. Call it when `<stateDir>/sync-request` appears.
 */
export async function serveSyncRequest(syncer: Syncer, stateDir: string, now: () => number): Promise<boolean> {
  const r = await readSyncRequest(stateDir);
  if (!r) return false;
  await clearSyncRequest(stateDir);
  const res = await syncer.request({ reason: r.reason, priority: 'manual', force: r.force });
  const out: SyncResultFile = { requestAt: r.at, at: now(), ok: res.ok, message: res.message };
  await writeFileAtomic(syncResultPath(stateDir), JSON.stringify(out) + '\n');
  return true;
}

// ---------------------------------------------------------------------------------------------

/** The syncer plus what tests and the daemon may wait on (STYLE.md habit 9). */
export interface SyncerHandle extends Syncer {
  /** Resolves once start-up recovery is done (and the start-up sync, if any, is scheduled). */
  readonly ready: Promise<void>;
  /** Resolves when no sync is queued or running. */
  idle(): Promise<void>;
}

export function createSyncer(deps: SyncerDeps): SyncerHandle {
  const remote = deps.config.remote;
  if (!remote) throw new Error('createSyncer needs config.remote');
  const random = deps.random ?? Math.random;
  const git = deps.git ?? spawnGitRunner(deps.root, deps.config.commit.timeoutMs);
  const perform = deps.perform ?? ((run: QueuedSync) => runSyncSequence(deps, git, run));

  let queue: SyncQueue = EMPTY_QUEUE;
  let nextId = 1;
  const waiters = new Map<number, (r: { ok: boolean; message: string }) => void>();
  let running: Promise<void> | null = null;
  let closed = false;
  let timer: { handle: unknown; at: number } | null = null;
  let state: PersistedState = {
    version: 1,
    seq: 0,
    lastSync: null,
    lastAttemptAt: null,
    breaker: CLOSED_BREAKER,
    stopped: null,
    ahead: 0,
    behind: 0,
  };
  const loaded = loadState(deps.stateDir).then((s) => {
    if (s) state = { ...state, ...s };
  });
  // What a killed sync left is recovered once, before the first sync of this process runs: two
  // recoveries at once would both try to finish the same interrupted branch move.
  const recovered = loaded.then(() =>
    recover(deps, git).catch((e: Error) => deps.logger.log('warn', 'sync recovery failed', { error: e.message })),
  );

  async function persist(): Promise<void> {
    state = { ...state, seq: state.seq + 1 };
    await writeFileAtomic(join(deps.stateDir, STATE_FILE), JSON.stringify(state, null, 2) + '\n').catch((e: Error) =>
      deps.logger.log('warn', 'sync state not saved', { error: e.message }),
    );
  }

  function arm(at: number, reason: string): void {
    if (closed) return;
    if (timer && timer.at <= at) return;
    if (timer) deps.scheduler.clearTimeout(timer.handle);
    const ms = Math.max(0, at - deps.clock.now());
    timer = {
      at,
      handle: deps.scheduler.setTimeout(() => {
        timer = null;
        void request({ reason, priority: 'scheduled' });
      }, ms),
    };
  }

  function request(r: { reason: string; priority: SyncPriority; force?: boolean }): Promise<{ ok: boolean; message: string }> {
    if (closed && r.priority !== 'lifecycle') return Promise.resolve({ ok: false, message: 'the syncer is stopping' });
    const id = nextId++;
    const p = new Promise<{ ok: boolean; message: string }>((res) => waiters.set(id, res));
    queue = enqueue(queue, id, r, deps.clock.now());
    kick();
    return p;
  }

  function kick(): void {
    if (running) return;
    running = (async () => {
      await recovered;
      for (;;) {
        const { run, queue: rest } = take(queue);
        queue = rest;
        if (!run) break;
        const answer = await handle(run);
        for (const id of run.ids) {
          waiters.get(id)?.(answer);
          waiters.delete(id);
        }
      }
    })()
      .catch((e: Error) => deps.logger.log('error', 'sync loop failed', { error: e.message }))
      .finally(() => {
        running = null;
        if (queue.next) kick();
      });
  }

  async function handle(run: QueuedSync): Promise<{ ok: boolean; message: string }> {
    const now = deps.clock.now();
    if (state.stopped && run.priority !== 'manual' && !run.force) {
      // Resume by itself once the person has integrated the remote tip we conflicted with.
      if (await resolvedByPerson(git, state.stopped.remote)) {
        deps.logger.log('info', 'sync resumed', { reason: 'conflict resolved' });
        state = { ...state, stopped: null };
        await persist();
      }
    }
    const g = gate({
      priority: run.priority,
      force: run.force,
      now,
      lastAttemptAt: state.lastAttemptAt,
      minIntervalMs: remote!.minIntervalMs,
      breaker: state.breaker,
      stopped: state.stopped?.reason ?? null,
      ahead: state.ahead,
    });
    if (g.action === 'refuse') return { ok: false, message: g.why };
    if (g.action === 'wait') {
      arm(g.until, run.reasons.join(', '));
      return { ok: false, message: `deferred: ${g.why}; next attempt at ${new Date(g.until).toISOString()}` };
    }
    const reason = run.reasons.join(', ');
    let out: SyncOutcome;
    try {
      out = await perform(run);
    } catch (e) {
      const err = e as Error;
      out = { ok: false, message: err.message, failure: e instanceof SyncGitError ? classifyGitFailure(e.stderr, e.timedOut) : 'other' };
    }
    const end = deps.clock.now();
    state = {
      ...state,
      lastAttemptAt: end,
      lastSync: { at: end, ok: out.ok, reason, ...(out.ok ? {} : { error: out.message }) },
      ahead: out.ahead ?? state.ahead,
      behind: out.behind ?? state.behind,
    };
    if (out.ok) {
      state = { ...state, breaker: onSuccess(), stopped: null };
    } else if (out.failure === 'conflict') {
      state = {
        ...state,
        stopped: { reason: `conflicts with ${remote!.name} in ${out.conflicts!.join(', ')}; resolve them (git pull --rebase, then fix and commit) or run \`winnow sync\` to try again`, files: out.conflicts ?? [], remote: out.conflictRemote ?? null },
      };
    } else {
      state = { ...state, breaker: onFailure(state.breaker, deps.config.retry, end, random()) };
      if (state.breaker.retryAt !== null) arm(state.breaker.retryAt, `retry: ${reason}`);
    }
    await persist();
    await audit(deps, {
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
      ahead: state.ahead,
      behind: state.behind,
      durationMs: end - now,
      breaker: state.breaker,
    });
    deps.logger.log(out.ok ? 'info' : 'warn', 'sync', { ok: out.ok, reason, message: out.message, pulled: out.pulled ?? 0, pushed: out.pushed ?? 0 });
    if (out.snapshot) {
      await pruneSnapshots(deps.stateDir, deps.config.snapshots.keep).catch((e: Error) => deps.logger.log('warn', 'snapshot prune failed', { error: e.message }));
    }
    return { ok: out.ok, message: out.message };
  }

  function afterCommit(): void {
    if (closed) return;
    state = { ...state, ahead: state.ahead + 1 };
    if (state.stopped) {
      // Cheap check on the next tick whether the person resolved the conflict.
      arm(deps.clock.now() + remote!.minIntervalMs, 'after commit');
      return;
    }
    const now = deps.clock.now();
    const at = state.ahead >= AHEAD_THRESHOLD && !breakerOpen(state.breaker, now)
      ? now
      : nextAfterCommit(state.lastAttemptAt, remote!.minIntervalMs, state.breaker, now);
    arm(at, 'after commit');
  }

  function status(): SyncStatus {
    const now = deps.clock.now();
    const open = breakerOpen(state.breaker, now);
    return {
      lastSync: state.lastSync,
      nextAt: timer?.at ?? null,
      breaker: { open, until: open ? state.breaker.openUntil : null, failures: state.breaker.failures },
      conflicts: state.stopped?.files ?? [],
      stopped: state.stopped?.reason ?? null,
      ahead: state.ahead,
      behind: state.behind,
    };
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    if (timer) deps.scheduler.clearTimeout(timer.handle);
    timer = null;
    if (deps.syncOnExit !== false) await request({ reason: 'exit', priority: 'lifecycle' });
    while (running) await running;
  }

  const ready = recovered.then(() => {
    if (deps.syncOnStart !== false && !closed) {
      deps.scheduler.setTimeout(() => void request({ reason: 'startup', priority: 'lifecycle' }), 0);
    }
  });

  async function idle(): Promise<void> {
    await ready;
    while (running) await running;
  }

  return { request, afterCommit, status, close, ready, idle };
}

async function loadState(stateDir: string): Promise<Partial<PersistedState> | null> {
  try {
    const s = JSON.parse(await readFile(join(stateDir, STATE_FILE), 'utf8')) as PersistedState;
    return s.version === 1 ? s : null;
  } catch {
    return null;
  }
}

async function audit(deps: SyncerDeps, entry: Record<string, unknown>): Promise<void> {
  const file = join(deps.stateDir, AUDIT_FILE);
  try {
    const st = await stat(file).catch(() => null);
    if (st && st.size > AUDIT_ROTATE_BYTES) await rename(file, `${file}.1`);
    await appendFile(file, JSON.stringify(entry) + '\n', { mode: 0o600 });
  } catch (e) {
    deps.logger.log('warn', 'sync audit log not written', { error: (e as Error).message });
  }
}

async function resolvedByPerson(git: GitRunner, remoteSha: string | null): Promise<boolean> {
  if (!remoteSha) return false;
  const r = await git(['merge-base', '--is-ancestor', remoteSha, 'HEAD'], { allowFail: true });
  return r.code === 0;
}

// ---------------------------------------------------------------------------------------------
// The git sequence.

interface Journal {
  branch: string;
  from: string;
  to: string;
}

/**
 * Finishes or discards what a killed sync left: temporary refs, and a branch move caught between
 * `read-tree` and `update-ref` (index already at the new tree while the branch is not).
 */
export async function recover(deps: Pick<SyncerDeps, 'stateDir' | 'logger'>, git: GitRunner): Promise<void> {
  // A pause raised by a sync whose process died (its lock is stale) is dropped at once rather
  // than holding commits for pause.maxMs.
  const lock = await readLock(join(deps.stateDir, 'sync.lock'));
  // A live sync in another process owns its journal and refs: leave them to it.
  if (lock && lock.pid !== process.pid && !isStale(lock)) return;
  if (lock && lock.pid !== process.pid) {
    const text = await readFile(pauseFile(deps.stateDir), 'utf8').catch(() => null);
    if (text !== null) {
      const p = parsePause(text, 0, 0);
      if (p.pid === lock.pid && p.reason.startsWith('sync with ')) await dropPause(deps.stateDir, lock.pid);
    }
  }
  const refs = await gitText(git, ['for-each-ref', '--format=%(refname)', 'refs/winnow/']).catch(() => '');
  for (const r of refs.split('\n').filter(Boolean)) await git(['update-ref', '-d', r], { allowFail: true });
  const jf = join(deps.stateDir, JOURNAL_FILE);
  let j: Journal;
  try {
    j = JSON.parse(await readFile(jf, 'utf8')) as Journal;
  } catch {
    return;
  }
  const head = await gitText(git, ['rev-parse', '-q', '--verify', `refs/heads/${j.branch}`]).catch(() => '');
  if (head === j.from) {
    const indexAtNew = (await git(['diff-index', '--cached', '--quiet', j.to, '--'], { allowFail: true })).code === 0;
    if (indexAtNew) {
      await git(['update-ref', '-m', 'winnow sync (recovered)', `refs/heads/${j.branch}`, j.to, j.from]);
      deps.logger.log('info', 'sync recovered an interrupted branch move', { from: j.from, to: j.to });
    }
  }
  await unlink(jf).catch(() => undefined);
}

async function repoBlock(gitDir: string): Promise<string | null> {
  const checks: [string, string][] = [
    ['rebase-merge', 'a rebase'],
    ['rebase-apply', 'a rebase or am'],
    ['MERGE_HEAD', 'a merge'],
    ['CHERRY_PICK_HEAD', 'a cherry-pick'],
    ['REVERT_HEAD', 'a revert'],
  ];
  for (const [f, what] of checks) {
    if (await stat(join(gitDir, f)).then(() => true, () => false)) return what;
  }
  return null;
}

function failed(message: string, failure: SyncOutcome['failure'], extra: Partial<SyncOutcome> = {}): SyncOutcome {
  return { ok: false, message, failure, ...extra };
}

/** One full sync attempt. Never throws for expected failures: returns them as outcomes. */
export async function runSyncSequence(deps: SyncerDeps, git: GitRunner, run: QueuedSync): Promise<SyncOutcome> {
  const remote = deps.config.remote!;
  const netTimeout = deps.networkTimeoutMs ?? 120_000;
  const lockFile = join(deps.stateDir, 'sync.lock');
  let lock;
  try {
    lock = await acquireLock(lockFile, { timeoutMs: 10_000, extra: { reason: run.reasons.join(', ') } });
  } catch (e) {
    if (e instanceof LockTimeoutError) return failed(`another sync is running: ${e.message}`, 'locked');
    throw e;
  }
  const pid = process.pid;
  try {
    await raisePause(deps.stateDir, { pid, at: deps.clock.now(), reason: `sync with ${remote.name}: ${run.reasons.join(', ')}` });
    await recover(deps, git);
    const block = await repoBlock(deps.gitDir);
    if (block) return failed(`${block} is in progress in the work tree; sync waits until it is finished or aborted.`, 'blocked');
    const url = await git(['remote', 'get-url', remote.name], { allowFail: true });
    if (url.code !== 0) {
      return failed(`remote "${remote.name}" is not configured in this repository. Add it (git remote add ${remote.name} URL) or set "remote.name" in .winnow.json.`, 'config');
    }
    const branch = remote.branch ?? (await git(['symbolic-ref', '-q', '--short', 'HEAD'], { allowFail: true })).stdout.toString().trim();
    if (!branch) return failed('HEAD is detached; sync needs a branch (check one out, or set "remote.branch").', 'blocked');
    const snapEnv: SnapshotEnv = { root: deps.root, gitDir: deps.gitDir, stateDir: deps.stateDir, git, hostname: deps.hostname };
    const snap = await createSnapshot(snapEnv, `sync: ${run.reasons.join(', ')}`, deps.clock.now());
    await deps.faultPoint?.('after-snapshot');
    await deps.commitPending();
    const tracking = `refs/remotes/${remote.name}/${branch}`;
    let pulled = 0;
    let pushed = 0;
    const copies: string[] = [];
    for (let round = 1; ; round++) {
      const local = await gitText(git, ['rev-parse', '-q', '--verify', `refs/heads/${branch}`]).catch(() => '');
      if (!local) return failed(`branch ${branch} has no commits yet; nothing to sync.`, 'blocked', { snapshot: snap.id });
      let remoteTip: string | null = null;
      if (remote.pull || remote.push) {
        const f = await git(['fetch', '-q', '--no-tags', remote.name, `+refs/heads/${branch}:${tracking}`], { allowFail: true, timeoutMs: netTimeout });
        if (f.code !== 0) {
          const kind = classifyGitFailure(f.stderr);
          if (kind !== 'missing') return failed(`fetch from ${remote.name} failed: ${lastLine(f.stderr)}`, kind, { snapshot: snap.id });
        } else {
          remoteTip = await gitText(git, ['rev-parse', '-q', '--verify', tracking]);
        }
      }
      let tip = local;
      if (remote.pull && remoteTip && remoteTip !== local) {
        if (await isAncestor(git, remoteTip, local)) {
          // Remote already contained: nothing to pull.
        } else if (await isAncestor(git, local, remoteTip)) {
          tip = remoteTip;
          pulled += await count(git, `${local}..${remoteTip}`);
        } else {
          const r = await replay(deps, git, local, remoteTip);
          if (r.kind === 'conflict') {
            return failed(`conflicts with ${remote.name} in ${r.files.join(', ')}: nothing was changed; syncing is stopped until they are resolved.`, 'conflict', {
              conflicts: r.files,
              conflictRemote: remoteTip,
              snapshot: snap.id,
              ...(await aheadBehind(git, tracking)),
            });
          }
          tip = r.tip;
          copies.push(...r.copies);
          await deps.faultPoint?.('after-replay');
          pulled += await count(git, `${local}..${remoteTip}`);
        }
        if (tip !== local) {
          const moved = await moveBranch(deps, git, branch, local, tip);
          if (!moved.ok) return failed(moved.message, 'dirty', { snapshot: snap.id, ...(await aheadBehind(git, tracking)) });
        }
      }
      if (remote.push) {
        const toPush = remoteTip ? await count(git, `${remoteTip}..${tip}`) : await count(git, tip);
        if (toPush > 0) {
          if (remoteTip && !(await isAncestor(git, remoteTip, tip))) {
            return failed(`the remote branch has commits this one lacks and "remote.pull" is false; not pushing (winnow never force-pushes).`, 'rejected', { snapshot: snap.id, ...(await aheadBehind(git, tracking)) });
          }
          const p = await git(['push', '--porcelain', '--no-verify', remote.name, `${tip}:refs/heads/${branch}`], { allowFail: true, timeoutMs: netTimeout });
          if (p.code !== 0) {
            const kind = classifyGitFailure(p.stderr + p.stdout.toString());
            if (kind === 'rejected' && round < PUSH_ROUNDS && remote.pull) continue;
            return failed(`push to ${remote.name} failed: ${lastLine(p.stderr || p.stdout.toString())}`, kind, { snapshot: snap.id, pulled, ...(await aheadBehind(git, tracking)) });
          }
          await deps.faultPoint?.('after-push');
          await git(['update-ref', tracking, tip], { allowFail: true });
          pushed += toPush;
        }
      }
      const ab = await aheadBehind(git, tracking);
      const parts = [`pulled ${pulled}`, `pushed ${pushed}`];
      if (copies.length) parts.push(`conflict copies: ${copies.join(', ')}`);
      return { ok: true, message: `synced with ${remote.name}/${branch}: ${parts.join(', ')}`, pulled, pushed, snapshot: snap.id, conflictCopies: copies, ...ab };
    }
  } finally {
    await dropPause(deps.stateDir, pid);
    await lock.release();
  }
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.slice(-2).join(' / ') || 'no message from git';
}

async function isAncestor(git: GitRunner, a: string, b: string): Promise<boolean> {
  return (await git(['merge-base', '--is-ancestor', a, b], { allowFail: true })).code === 0;
}

async function count(git: GitRunner, range: string): Promise<number> {
  return Number(await gitText(git, ['rev-list', '--count', range])) || 0;
}

async function aheadBehind(git: GitRunner, tracking: string): Promise<{ ahead: number; behind: number }> {
  const r = await git(['rev-list', '--left-right', '--count', `HEAD...${tracking}`], { allowFail: true });
  if (r.code !== 0) {
    const all = await git(['rev-list', '--count', 'HEAD'], { allowFail: true });
    return { ahead: Number(all.stdout.toString().trim()) || 0, behind: 0 };
  }
  const [a, b] = r.stdout.toString().trim().split(/\s+/).map(Number);
  return { ahead: a ?? 0, behind: b ?? 0 };
}

type ReplayResult = { kind: 'ok'; tip: string; copies: string[] } | { kind: 'conflict'; files: string[] };

interface MergeTreeOut {
  tree: string;
  conflicts: Map<string, { stage: number; mode: string; oid: string }[]>;
}

const SYNTHETIC_IDENT = {
  GIT_AUTHOR_NAME: 'winnow',
  GIT_AUTHOR_EMAIL: 'winnow@localhost',
  GIT_COMMITTER_NAME: 'winnow',
  GIT_COMMITTER_EMAIL: 'winnow@localhost',
  GIT_AUTHOR_DATE: '@1 +0000',
  GIT_COMMITTER_DATE: '@1 +0000',
};

/**
 * A cherry-pick as a three-way merge of trees: `base` → `theirs` applied onto `ours`. git 2.38
 * and 2.39 have `merge-tree --write-tree` but not `--merge-base`, so the merge base is forced
 * with throw-away commits: B (base's tree, no parent), O (ours' tree, parent B) and T (theirs'
 * tree, parent B); merge-base(O, T) is B. They stay unreferenced objects for gc.
 */
async function mergeTree(git: GitRunner, baseTree: string, oursTree: string, theirsTree: string): Promise<MergeTreeOut> {
  const mk = (tree: string, parent?: string) =>
    gitText(git, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', 'winnow sync replay'], { env: SYNTHETIC_IDENT });
  const b = await mk(baseTree);
  const o = await mk(oursTree, b);
  const t = await mk(theirsTree, b);
  const r = await git(['merge-tree', '--write-tree', '-z', o, t], { allowFail: true });
  if (r.code !== 0 && r.code !== 1) throw new SyncGitError(['merge-tree'], r.code, r.stderr, false);
  const parts = r.stdout.toString('utf8').split('\0');
  const tree = parts[0]!;
  const conflicts = new Map<string, { stage: number; mode: string; oid: string }[]>();
  if (r.code === 1) {
    for (let i = 1; i < parts.length && parts[i] !== ''; i++) {
      const m = /^(\d+) ([0-9a-f]+) (\d)\t(.*)$/s.exec(parts[i]!);
      if (!m) continue;
      const list = conflicts.get(m[4]!) ?? [];
      list.push({ mode: m[1]!, oid: m[2]!, stage: Number(m[3]) });
      conflicts.set(m[4]!, list);
    }
    if (conflicts.size === 0) conflicts.set('(unknown path)', []);
  }
  return { tree, conflicts };
}

/**
 * Replays the local commits (those in remoteTip..local not already upstream, oldest first) onto
 * remoteTip without a work tree. Under `ours`/`theirs`, conflicted paths are settled in a
 * private index and the losing version is committed next to them as a conflict copy.
 */
async function replay(deps: SyncerDeps, git: GitRunner, local: string, remoteTip: string): Promise<ReplayResult> {
  const strategy = deps.config.remote!.conflict;
  const commits = (await gitText(git, ['rev-list', '--reverse', '--topo-order', '--no-merges', '--right-only', '--cherry-pick', `${remoteTip}...${local}`]))
    .split('\n')
    .filter(Boolean);
  let tip = remoteTip;
  const copies: string[] = [];
  const ident = await git(['var', 'GIT_COMMITTER_IDENT'], { allowFail: true });
  for (const c of commits) {
    const parentTree = await gitText(git, ['rev-parse', `${c}^^{tree}`]).catch(() => '4b825dc642cb6eb9a060e54bf8d69288fbee4904');
    const mt = await mergeTree(git, parentTree, await gitText(git, ['rev-parse', `${tip}^{tree}`]), await gitText(git, ['rev-parse', `${c}^{tree}`]));
    let tree = mt.tree;
    let note = '';
    if (mt.conflicts.size) {
      if (strategy === 'manual') {
        // Report every conflicted path of the whole replay would need more merges; the first
        // commit's list is what the person meets first when they pull.
        return { kind: 'conflict', files: [...mt.conflicts.keys()].sort() };
      }
      const settled = await settleConflicts(deps, git, strategy, mt, tip, c);
      tree = settled.tree;
      copies.push(...settled.copies);
      note = `\n\nwinnow: conflicts resolved with "${strategy}"; the other side is kept in ${settled.copies.join(', ') || 'no copy (it deleted the file)'}.\n`;
    }
    if (tree === (await gitText(git, ['rev-parse', `${tip}^{tree}`]))) continue; // already upstream in substance: dropped, as rebase does
    const meta = (await gitText(git, ['log', '-1', '--format=%an%x00%ae%x00%ad', '--date=raw', c])).split('\0');
    const raw = (await git(['cat-file', 'commit', c])).stdout.toString('utf8');
    const message = raw.slice(raw.indexOf('\n\n') + 2).replace(/\n*$/, '\n') + note;
    const env: Record<string, string> = { GIT_AUTHOR_NAME: meta[0]!, GIT_AUTHOR_EMAIL: meta[1]!, GIT_AUTHOR_DATE: meta[2]! };
    if (ident.code !== 0) Object.assign(env, { GIT_COMMITTER_NAME: meta[0]!, GIT_COMMITTER_EMAIL: meta[1]! });
    tip = await gitText(git, ['commit-tree', tree, '-p', tip, '-F', '-'], { env, input: message });
  }
  return { kind: 'ok', tip, copies };
}

async function settleConflicts(deps: SyncerDeps, git: GitRunner, strategy: 'ours' | 'theirs', mt: MergeTreeOut, tip: string, commit: string): Promise<{ tree: string; copies: string[] }> {
  // Stage 2 is the side being replayed onto (remote), stage 3 the local commit.
  const files: ConflictedPath[] = [];
  for (const [path, stages] of mt.conflicts) {
    files.push({ path, local: stages.some((s) => s.stage === 3), remote: stages.some((s) => s.stage === 2) });
  }
  const existing = new Set(
    (await git(['ls-tree', '-r', '-z', '--name-only', tip])).stdout.toString('utf8').split('\0').filter(Boolean),
  );
  for (const p of (await git(['ls-tree', '-r', '-z', '--name-only', commit])).stdout.toString('utf8').split('\0')) if (p) existing.add(p);
  const plan = planResolution(strategy, files, deps.hostname, deps.clock.now(), existing);
  const tmpIndex = join(deps.stateDir, `sync-index.${process.pid}`);
  const env = { GIT_INDEX_FILE: tmpIndex };
  try {
    await git(['read-tree', mt.tree], { env });
    const lines: string[] = [];
    const entry = (path: string, side: 'local' | 'remote') => mt.conflicts.get(path)!.find((s) => s.stage === (side === 'remote' ? 2 : 3))!;
    for (const r of plan) {
      // Drop whatever merge-tree left at the path (stages or a file with conflict markers).
      lines.push(`0 0000000000000000000000000000000000000000\t${r.path}`);
      if (r.keep !== 'none') {
        const e = entry(r.path, r.keep);
        lines.push(`${e.mode} ${e.oid}\t${r.path}`);
      }
      if (r.copy) {
        const e = entry(r.path, r.copy.from);
        lines.push(`${e.mode} ${e.oid}\t${r.copy.path}`);
      }
    }
    await git(['update-index', '-z', '--index-info'], { env, input: lines.join('\0') + '\0' });
    const tree = await gitText(git, ['write-tree'], { env });
    return { tree, copies: plan.filter((r) => r.copy).map((r) => r.copy!.path) };
  } finally {
    await unlink(tmpIndex).catch(() => undefined);
  }
}

/**
 * Moves `branch` from `from` to `to` and the work tree with it, carrying uncommitted changes;
 * refuses (changing nothing) when one would be overwritten.
 */
async function moveBranch(deps: SyncerDeps, git: GitRunner, branch: string, from: string, to: string): Promise<{ ok: true } | { ok: false; message: string }> {
  const head = await gitText(git, ['symbolic-ref', '-q', 'HEAD']).catch(() => '');
  const checkedOut = head === `refs/heads/${branch}`;
  if (!checkedOut) {
    await git(['update-ref', '-m', 'winnow sync', `refs/heads/${branch}`, to, from]);
    return { ok: true };
  }
  const jf = join(deps.stateDir, JOURNAL_FILE);
  await writeFileAtomic(jf, JSON.stringify({ branch, from, to } satisfies Journal) + '\n');
  try {
    const rt = await git(['read-tree', '-m', '-u', from, to], { allowFail: true });
    if (rt.code !== 0) {
      const files = [...rt.stderr.matchAll(/(?:Entry|file) '([^']+)'/g)].map((m) => m[1]!);
      return {
        ok: false,
        message: `uncommitted changes${files.length ? ` to ${files.join(', ')}` : ''} would be overwritten by incoming changes; nothing was changed. Commit or discard them and the next sync brings the remote's changes in. (git: ${lastLine(rt.stderr)})`,
      };
    }
    await deps.faultPoint?.('after-read-tree');
    const u = await git(['update-ref', '-m', 'winnow sync', `refs/heads/${branch}`, to, from], { allowFail: true });
    if (u.code !== 0) {
      // Someone committed in between: put the tree back and let the next sync try again.
      await git(['read-tree', '-m', '-u', to, from], { allowFail: true });
      return { ok: false, message: `the branch moved during the sync (a commit by hand?); nothing was changed, the next sync retries.` };
    }
    return { ok: true };
  } finally {
    await unlink(jf).catch(() => undefined);
  }
}
