// Shared set-up for the sync integration tests: a bare remote and two clones.
import { mkdtemp, realpath, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { execFileSync } from 'node:child_process';
import { GIT_ENV } from '../helpers/repo.js';
import { ManualClock } from '../helpers/clock.js';
import { DEFAULTS, REMOTE_DEFAULTS, type Config } from '../../src/core/config/defaults.js';
import { createSyncer, type Syncer, type SyncerDeps } from '../../src/daemon/sync/syncer.js';
import { createGitRunner } from '../../src/adapters/git.js';
import type { GitRunner } from '../../src/ports/index.js';
import type { Logger } from '../../src/ports/index.js';

export interface Clone {
  root: string;
  gitDir: string;
  stateDir: string;
  git(...args: string[]): string;
  write(rel: string, content: string): Promise<void>;
  read(rel: string): Promise<string>;
  /** Commits everything (what a running daemon would have done with accepted changes). */
  commitAll(msg: string): void;
}

export interface World {
  base: string;
  bare: string;
  a: Clone;
  b: Clone;
  cleanup(): Promise<void>;
}

function gitIn(cwd: string) {
  return (...args: string[]) => execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function clone(base: string, bare: string, name: string): Promise<Clone> {
  const root = join(base, name);
  execFileSync('git', ['clone', '-q', bare, root], { env: GIT_ENV, stdio: 'ignore' });
  const git = gitIn(root);
  git('config', 'user.name', `Person ${name}`);
  git('config', 'user.email', `${name}@example.test`);
  git('config', 'commit.gpgsign', 'false');
  const gitDir = join(root, '.git');
  return {
    root,
    gitDir,
    stateDir: join(gitDir, 'winnow'),
    git,
    async write(rel, content) {
      await mkdir(dirname(join(root, rel)), { recursive: true });
      await writeFile(join(root, rel), content);
    },
    read: (rel) => readFile(join(root, rel), 'utf8'),
    commitAll(msg) {
      git('add', '-A');
      git('commit', '-q', '-m', msg);
    },
  };
}

/** A bare remote with one commit on `main`, cloned twice (a, b); sha1 unless `objectFormat` says otherwise. */
export async function world(opts: { objectFormat?: 'sha1' | 'sha256' } = {}): Promise<World> {
  const base = await mkdtemp(join(await realpath(tmpdir()), 'winnow-sync-'));
  const bare = join(base, 'remote.git');
  const format = `--object-format=${opts.objectFormat ?? 'sha1'}`;
  execFileSync('git', ['init', '-q', '--bare', format, '-b', 'main', bare], { env: GIT_ENV });
  const seed = join(base, 'seed');
  execFileSync('git', ['init', '-q', format, '-b', 'main', seed], { env: GIT_ENV });
  const s = gitIn(seed);
  await writeFile(join(seed, 'README.md'), 'line one\nline two\nline three\n');
  s('add', '.');
  s('commit', '-q', '-m', 'initial');
  s('push', '-q', bare, 'main');
  const a = await clone(base, bare, 'a');
  const b = await clone(base, bare, 'b');
  return { base, bare, a, b, cleanup: () => rm(base, { recursive: true, force: true }) };
}

export function testConfig(remote: Partial<NonNullable<Config['remote']>> = {}): Config {
  return {
    ...DEFAULTS,
    remote: { ...REMOTE_DEFAULTS, ...remote },
    retry: { attempts: 3, baseMs: 1000, maxMs: 4000, breakerCooldownMs: 60_000 },
  } as Config;
}

export const quietLogger: Logger = { log() {} };

export function syncerFor(c: Clone, opts: { config?: Config; git?: GitRunner; clock?: ManualClock; hostname?: string; commitPending?: () => Promise<void>; faultPoint?: SyncerDeps['faultPoint'] } = {}): { syncer: Syncer; clock: ManualClock } {
  const clock = opts.clock ?? new ManualClock();
  const syncer = createSyncer({
    root: c.root,
    gitDir: c.gitDir,
    stateDir: c.stateDir,
    config: opts.config ?? testConfig(),
    clock,
    scheduler: clock,
    logger: quietLogger,
    hostname: opts.hostname ?? 'host-' + c.root.slice(-1),
    commitPending: opts.commitPending ?? (async () => undefined),
    git: opts.git ?? createGitRunner(c.root, { timeoutMs: 30_000, env: GIT_ENV }),
    syncOnStart: false,
    random: () => 0,
    ...(opts.faultPoint ? { faultPoint: opts.faultPoint } : {}),
  });
  return { syncer, clock };
}
