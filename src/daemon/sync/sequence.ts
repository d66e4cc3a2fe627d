/**
 * One sync attempt, as git commands: sync lock → pause signal → snapshot → commit pending →
 * fetch → integrate (fast-forward, or replay.ts) → move the branch → push → drop pause → release.
 * Expected failures are returned as outcomes, never thrown. `recover` finishes or discards what a
 * killed attempt left.
 */
import { readFile, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { classifySyncFailure, type QueuedSync } from '../../core/sync/index.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { acquireLock, LockTimeoutError } from '../lifecycle/lock-manager.js';
import { raisePause, dropPause, parsePause, pauseFile, readPause } from '../lifecycle/pause.js';
import { readLock, isStale } from '../lifecycle/lock.js';
import { replay } from './replay.js';
import { pushNotes, squashBeforePush } from '../history/sync-extras.js';
import { createSnapshot, type SnapshotEnv } from './snapshots.js';
import type { GitRunner } from '../../ports/index.js';
import { gitText } from '../git-calls.js';
import type { SyncerDeps, SyncOutcome } from './syncer.js';

const JOURNAL_FILE = 'sync-journal.json';
/** A push that the remote rejects because it moved meanwhile gets this many fresh pull+push rounds. */
const PUSH_ROUNDS = 3;

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
  // A forced sync during someone else's pause leaves their signal alone: it already holds
  // commits, and writing ours over it would lose it when ours is dropped.
  const theirs = await readPause(deps.stateDir, deps.clock.now(), deps.config.pause.maxMs).catch(() => null);
  const ownPause = !theirs || theirs.pid === pid;
  try {
    if (ownPause) await raisePause(deps.stateDir, { pid, at: deps.clock.now(), reason: `sync with ${remote.name}: ${run.reasons.join(', ')}` });
    await recover(deps, git);
    const block = await repoBlock(deps.gitDir);
    if (block) return failed(`${block} is in progress in the work tree; sync waits until it is finished or aborted.`, 'blocked');
    const url = await git(['remote', 'get-url', remote.name], { allowFail: true });
    if (url.code !== 0) {
      return failed(`remote "${remote.name}" is not configured in this repository. Add it (git remote add ${remote.name} URL) or set "remote.name" in .winnow.json.`, 'config');
    }
    const branch = remote.branch ?? (await git(['symbolic-ref', '-q', '--short', 'HEAD'], { allowFail: true })).stdout.toString().trim();
    if (!branch) return failed('HEAD is detached; sync needs a branch (check one out, or set "remote.branch").', 'blocked');
    const snapEnv: SnapshotEnv = {
      root: deps.root,
      gitDir: deps.gitDir,
      stateDir: deps.stateDir,
      git,
      hostname: deps.hostname,
      guard: { maxFileBytes: deps.config.commit.maxFileBytes, secrets: deps.config.secrets },
    };
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
          const kind = classifySyncFailure(f.stderr);
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
      if (remote.push && remote.squashBeforePush && (await gitText(git, ['symbolic-ref', '-q', 'HEAD']).catch(() => '')) === `refs/heads/${branch}`) {
        // Only winnow's commits on no remote are folded; the tree stays, so the work tree does too.
        const folded = await squashBeforePush(git, deps.config, deps.clock.now());
        if (folded) {
          tip = await gitText(git, ['rev-parse', `refs/heads/${branch}`]);
          deps.logger.log('info', 'squashed before push', { commits: folded, sha: tip });
        }
      }
      if (remote.push) {
        const toPush = remoteTip ? await count(git, `${remoteTip}..${tip}`) : await count(git, tip);
        if (toPush > 0) {
          if (remoteTip && !(await isAncestor(git, remoteTip, tip))) {
            return failed(`the remote branch has commits this one lacks and "remote.pull" is false; not pushing (winnow never force-pushes).`, 'rejected', { snapshot: snap.id, ...(await aheadBehind(git, tracking)) });
          }
          // --no-verify skips the person's pre-push hooks, and with them git-lfs's upload: run that one.
          const lfs = await lfsPrePush(git, deps.root, remote.name, url.stdout.toString().trim(), branch, tip, remoteTip, netTimeout);
          if (lfs) {
            return failed(`push to ${remote.name} not attempted: git-lfs could not upload the LFS objects first (${lastLine(lfs)}); a push without them would leave pointers with no content on the remote.`, classifySyncFailure(lfs), { snapshot: snap.id, pulled, ...(await aheadBehind(git, tracking)) });
          }
          const p = await git(['push', '--porcelain', '--no-verify', remote.name, `${tip}:refs/heads/${branch}`], { allowFail: true, timeoutMs: netTimeout });
          if (p.code !== 0) {
            const kind = classifySyncFailure(p.stderr + p.stdout.toString());
            if (kind === 'rejected' && round < PUSH_ROUNDS && remote.pull) continue;
            return failed(`push to ${remote.name} failed: ${lastLine(p.stderr || p.stdout.toString())}`, kind, { snapshot: snap.id, pulled, ...(await aheadBehind(git, tracking)) });
          }
          await deps.faultPoint?.('after-push');
          await git(['update-ref', tracking, tip], { allowFail: true });
          pushed += toPush;
        }
      }
      if (remote.push && remote.pushNotes) {
        const why = await pushNotes(git, remote.name, netTimeout);
        if (why) deps.logger.log('warn', 'winnow notes not pushed', { reason: why });
      }
      const ab = await aheadBehind(git, tracking);
      const parts = [`pulled ${pulled}`, `pushed ${pushed}`];
      if (copies.length) parts.push(`conflict copies: ${copies.join(', ')}`);
      return { ok: true, message: `synced with ${remote.name}/${branch}: ${parts.join(', ')}`, pulled, pushed, snapshot: snap.id, conflictCopies: copies, ...ab };
    }
  } finally {
    if (ownPause) await dropPause(deps.stateDir, pid);
    await lock.release();
  }
}

/**
 * The upload git-lfs's pre-push hook would make (issue 11 case 19): `git lfs pre-push REMOTE URL`
 * with the ref line git would give the hook. Runs when the pre-push hook that `--no-verify` skips
 * calls git-lfs (`git lfs install` writes it), so a person's other pre-push hooks still do not run
 * in an automatic sync. Returns git-lfs's message when it fails (git-lfs missing included), or null.
 */
async function lfsPrePush(git: GitRunner, root: string, remote: string, url: string, branch: string, tip: string, remoteTip: string | null, timeoutMs: number): Promise<string | null> {
  const hook = await gitText(git, ['rev-parse', '--git-path', 'hooks/pre-push']).catch(() => '');
  if (!hook) return null;
  const text = await readFile(isAbsolute(hook) ? hook : join(root, hook), 'utf8').catch(() => '');
  if (!/git[ -]lfs/.test(text)) return null;
  const zero = '0'.repeat(tip.length);
  const ref = `refs/heads/${branch}`;
  const r = await git(['lfs', 'pre-push', remote, url || remote], { allowFail: true, timeoutMs, input: `${ref} ${tip} ${ref} ${remoteTip ?? zero}\n` });
  return r.code === 0 ? null : `${r.stderr}\n${r.stdout.toString()}`.trim() || `git lfs pre-push exited ${r.code}`;
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
