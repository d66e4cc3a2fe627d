/**
 * Why due paths must wait before a commit may run (SPEC "Committer", "Coordination"): the pause
 * signal, the breaker and its backoff, a merge or detached HEAD, a vanished root, someone else's
 * index.lock, a git command of the person's, low disk, the rate limit. Each reason is a sentence
 * for `status` (core/commit/guards.ts) and a time to look again.
 */
import { join } from 'node:path';
import type { Config } from '../../core/config/defaults.js';
import type { Fs, Git } from '../../ports/index.js';
import { blockedSentence, waitingSentence } from '../../core/commit/guards.js';
import { breakerOpen, type BreakerState } from '../../core/retry.js';

/**
 * How often a wait on an outside condition (pause, merge in progress, index.lock, low disk) is
 * re-checked. Only while something is queued: an idle committer holds no timer at all.
 */
export const RECHECK_MS = 2_000;

export interface WaitDeps {
  git: Git;
  fs: Fs;
  config: Config;
  root: string;
  isPaused(): Promise<boolean>;
  personGit?(): Promise<{ pid: number; command: string } | null>;
}

export interface Wait {
  sentence: string;
  /** When to look again. */
  until: number;
}

/** Why due paths must wait now, and until when to look again; null when a commit may run. `paths`: the batch due. */
export async function reasonToWait(
  deps: WaitDeps,
  limits: { breaker: BreakerState; nextAllowedAt(now: number): number },
  now: number,
  paths: readonly string[] = [],
): Promise<Wait | null> {
  const { git, fs, config, root } = deps;
  if (await deps.isPaused().catch(() => false)) return { sentence: waitingSentence.paused(), until: now + RECHECK_MS };
  const b = limits.breaker;
  if (breakerOpen(b, now)) return { sentence: waitingSentence.breakerOpen(b.openUntil!, b.lastError ?? null), until: b.openUntil! };
  if (b.retryAt !== null && now < b.retryAt) {
    return { sentence: waitingSentence.retrying(b.retryAt, b.lastError ?? null), until: b.retryAt };
  }
  const lock = join(git.gitDir, 'index.lock');
  // The checks are independent reads (the person's index, /proc, the file system): asked side by
  // side, answered in this order. At 100k files the index read and the /proc walk cost tens of ms each.
  const [block, rootThere, locked, theirs, free] = await Promise.all([
    // Given the batch's paths, the one read of the person's index also answers prepare's question.
    git.blocked(paths),
    fs.stat(root),
    fs.stat(lock),
    deps.personGit?.().catch(() => null) ?? null,
    fs.freeBytes(root).catch(() => Number.POSITIVE_INFINITY),
  ]);
  if (block) return { sentence: blockedSentence(block), until: now + RECHECK_MS };
  if (!rootThere) return { sentence: waitingSentence.rootGone(root), until: now + RECHECK_MS };
  // Someone else's git is working. Never delete their lock: wait for it to go.
  if (locked) return { sentence: waitingSentence.indexLock(lock), until: now + RECHECK_MS };
  if (theirs) return { sentence: waitingSentence.personGit(theirs.pid, theirs.command), until: now + RECHECK_MS };
  if (free < config.health.minFreeBytes) return { sentence: waitingSentence.lowDisk(free, config.health.minFreeBytes), until: now + RECHECK_MS };
  const next = limits.nextAllowedAt(now);
  if (next > now) return { sentence: waitingSentence.rateLimited(next), until: next };
  return null;
}
