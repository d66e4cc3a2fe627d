/**
 * What `git commit` does after every commit and winnow's plumbing does not: `git maintenance run
 * --auto`. Without it a workspace only winnow commits to keeps every object loose (one blob, a
 * few trees, the commit and its note per commit): the disk fills with small files and every git
 * lookup slows (`mktree` of a 1,000-entry folder took 40–60 ms among 101k loose objects, under
 * 10 ms once packed; docs/benchmarks.md). git decides what to do from the person's own config
 * (`maintenance.auto`, `gc.auto`, `gc.autoDetach`), as it does after their commits; with the
 * defaults it packs in a detached `git gc` once ~6,700 objects are loose.
 *
 * Off the commit's path: never awaited by a commit, one at a time, at most once per interval. Stop
 * does not wait for it either: like gc after a person's commit, it finishes on its own.
 */
import type { Clock, GitRunner, Logger } from '../../ports/index.js';

/** At ~10 objects a commit, gc's default threshold is hundreds of commits away: a look every 10 minutes is plenty. */
export const MAINTENANCE_INTERVAL_MS = 10 * 60_000;

export class AutoMaintenance {
  private lastAt = -Infinity;
  private running: Promise<void> | null = null;

  constructor(
    private readonly deps: { git: GitRunner; clock: Clock; logger: Logger; intervalMs?: number },
  ) {}

  /** A commit landed: runs git's auto maintenance unless one runs or ran within the interval. */
  afterCommit(): void {
    const now = this.deps.clock.now();
    if (this.running || now - this.lastAt < (this.deps.intervalMs ?? MAINTENANCE_INTERVAL_MS)) return;
    this.lastAt = now;
    this.running = this.deps
      .git(['maintenance', 'run', '--auto', '--quiet'], { timeoutMs: 10 * 60_000 })
      .then(
        () => this.deps.logger.log('info', 'git maintenance run --auto', { ms: this.deps.clock.now() - now }),
        (e: Error) => this.deps.logger.log('warn', 'git maintenance run --auto failed; commits go on', { error: e.message }),
      )
      .finally(() => {
        this.running = null;
      });
  }
}
