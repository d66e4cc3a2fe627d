/**
 * A real committer (real git, real files) on a temp repository, driven by a manual clock: the
 * harness the committer's integration tests share. Everything is closed and removed after the test.
 */
import { join } from 'node:path';
import { tempRepo, type TempRepo } from './repo.js';
import { ManualClock } from './clock.js';
import { createGit } from '../../src/adapters/git.js';
import { nodeFs } from '../../src/adapters/node-fs.js';
import { createCommitter, type Committer, type CommitterDeps } from '../../src/daemon/commit/committer.js';
import type { Config } from '../../src/core/config/defaults.js';
import type { Git, Logger } from '../../src/ports/index.js';

export interface RealCommitter {
  r: TempRepo;
  git: Git;
  clock: ManualClock;
  committer: Committer;
  stateDir: string;
}

export async function realCommitter(
  t: { after(fn: () => Promise<void>): void },
  opts: {
    config: Config;
    repo?: TempRepo;
    logger?: Logger;
    isPaused?: () => Promise<boolean>;
    /** The git port (default: createGit on the repository, hooks as the config says). */
    git?: (root: string, gitDir: string, stateDir: string) => Promise<Git>;
    /** What the daemon hears of commits and of paths that needed none. */
    on?: Pick<CommitterDeps, 'onCommitted' | 'onDiscarded'>;
  },
): Promise<RealCommitter> {
  const r = opts.repo ?? (await tempRepo());
  const gitDir = join(r.root, '.git');
  const stateDir = join(gitDir, 'winnow');
  const git = opts.git
    ? await opts.git(r.root, gitDir, stateDir)
    : await createGit(r.root, { gitDir, stateDir, timeoutMs: 20_000, hooks: opts.config.commit.hooks });
  const clock = new ManualClock();
  const committer = createCommitter({
    git,
    fs: nodeFs,
    clock,
    scheduler: clock,
    logger: opts.logger ?? { log: () => undefined },
    config: opts.config,
    root: r.root,
    stateDir,
    isPaused: opts.isPaused ?? (async () => false),
    random: () => 0,
    ...opts.on,
  });
  t.after(async () => {
    await committer.close();
    await git.close();
    await r.cleanup();
  });
  return { r, git, clock, committer, stateDir };
}
