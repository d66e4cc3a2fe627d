/**
 * Commit micro-benchmark: median wall time of one single-path commit through the committer
 * (submit → commit landed, i.e. HEAD moved and `onCommitted` ran: pause/blocked/lock/disk checks,
 * lstat, secret scan, `ls-tree`, private-index `update-index` + `write-tree`, `commit-tree`,
 * journal, `update-ref`), on a small repo and on one with 50k tracked files. Also reported: the
 * whole cycle (submit → idle), which adds bringing the person's index up to date for the path.
 *
 * The 50k-file repo is generated in one `git fast-import` stream and checked out once — never
 * 50k spawns. Also printed (stderr, when `WINNOW_BENCH_VERBOSE` is set) is the bare
 * `git commit --only` step, to tell git's cost from the committer's own.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGit } from '../../adapters/git.js';
import { nodeFs } from '../../adapters/node-fs.js';
import { systemClock } from '../../adapters/system-clock.js';
import { nullLogger } from '../../adapters/json-logger.js';
import { createCommitter } from '../../daemon/commit/committer.js';
import { mergeConfig } from '../../core/config/schema.js';
import { planCommit } from '../../core/commit/plan.js';

const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.test',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export interface CommitFigures {
  /** Submit → commit landed (HEAD moved), median. */
  commitMsSmall: number;
  commitMs50k: number;
  /** Submit → idle: the above plus the person's index brought up to date, median. */
  cycleMsSmall: number;
  cycleMs50k: number;
  files: number;
}

/**
 * @example const { commitMsSmall, commitMs50k } = await measureCommit({ files: 50_000 });
 */
export async function measureCommit(opts: { files?: number; runs?: number } = {}): Promise<CommitFigures> {
  const files = opts.files ?? 50_000;
  const runs = opts.runs ?? 21;
  const base = await realpath(tmpdir());
  const small = await mkdtemp(join(base, 'winnow-bench-commit-'));
  const large = await mkdtemp(join(base, 'winnow-bench-commit50k-'));
  try {
    await makeRepo(small, 5);
    await makeRepo(large, files);
    const s = await measureRepo(small, runs);
    const l = await measureRepo(large, runs);
    if (process.env.WINNOW_BENCH_VERBOSE) {
      process.stderr.write(
        `commit: small ${s.committer.toFixed(2)} ms landed, ${s.cycle.toFixed(2)} ms with the index update ` +
          `(bare commit --only ${s.bare.toFixed(2)} ms); ${files} files ${l.committer.toFixed(2)} ms landed, ` +
          `${l.cycle.toFixed(2)} ms with the index update (bare commit --only ${l.bare.toFixed(2)} ms)\n`,
      );
    }
    return {
      commitMsSmall: round(s.committer),
      commitMs50k: round(l.committer),
      cycleMsSmall: round(s.cycle),
      cycleMs50k: round(l.cycle),
      files,
    };
  } finally {
    await rm(small, { recursive: true, force: true });
    await rm(large, { recursive: true, force: true });
  }
}

/** A repo with `n` tracked files in 100-file directories, built by one fast-import stream. */
async function makeRepo(root: string, n: number): Promise<void> {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  git('init', '-q', '-b', 'main');
  git('config', 'commit.gpgsign', 'false');
  const chunks: string[] = [];
  for (let i = 0; i < n; i++) {
    const data = `file ${i}\n${'x'.repeat(i % 200)}\n`;
    chunks.push(`blob\nmark :${i + 1}\ndata ${Buffer.byteLength(data)}\n${data}\n`);
  }
  const msg = 'initial\n';
  chunks.push(`commit refs/heads/main\ncommitter Bench <bench@example.test> 1700000000 +0000\ndata ${msg.length}\n${msg}`);
  for (let i = 0; i < n; i++) chunks.push(`M 100644 :${i + 1} ${pathOf(i)}\n`);
  chunks.push('\n');
  await pipeTo(root, ['fast-import', '--quiet'], chunks.join(''));
  git('reset', '-q', '--hard', 'main');
  // Files written in the same second as the index are "racily clean" and re-hashed on every
  // command; a real workspace has settled long ago. Let the clock move on, then refresh once.
  await new Promise((r) => setTimeout(r, 1100));
  git('update-index', '-q', '--really-refresh');
}

function pathOf(i: number): string {
  return `d${String(Math.floor(i / 100)).padStart(4, '0')}/f${i}.txt`;
}

function pipeTo(cwd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('git', args, { cwd, env: ENV, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git ${args[0]} failed: ${err.trim()}`))));
    p.stdin.end(input);
  });
}

async function measureRepo(root: string, runs: number): Promise<{ committer: number; cycle: number; bare: number }> {
  const gitDir = join(root, '.git');
  const stateDir = join(gitDir, 'winnow');
  const saved = { ...process.env };
  Object.assign(process.env, ENV);
  const git = await createGit(root, { gitDir, stateDir, timeoutMs: 60_000, hooks: false });
  Object.assign(process.env, saved);
  const config = mergeConfig({ rateLimit: { maxPerHour: 1_000_000, maxPerDay: 1_000_000 }, health: { minFreeBytes: 0 } });
  let landed: (() => void) | null = null;
  const committer = createCommitter({
    git,
    fs: nodeFs,
    clock: systemClock,
    scheduler: systemClock,
    logger: nullLogger,
    config,
    root,
    stateDir,
    isPaused: async () => false,
    onCommitted: () => landed?.(),
  });
  const target = pathOf(0);
  const viaCommitter: number[] = [];
  const cycle: number[] = [];
  const bare: number[] = [];
  try {
    // Warm-up (page cache, the cat-file-free path, node's JIT), not measured.
    for (let i = 0; i < 3; i++) await commitOnce(i);
    for (let i = 0; i < runs; i++) {
      const r = await commitOnce(100 + i);
      viaCommitter.push(r.landed);
      cycle.push(r.cycle);
    }
    for (let i = 0; i < runs; i++) {
      await writeFile(join(root, target), `bare ${i}\n`);
      const plan = planCommit({
        paths: [target],
        facts: new Map([[target, { tracked: true, present: true }]]),
        messageTemplate: config.commit.message,
        hooks: false,
        hooksDir: join(stateDir, 'hooks-empty'),
      });
      const t0 = performance.now();
      await git.run(plan.steps);
      bare.push(performance.now() - t0);
    }
  } finally {
    await committer.close();
    await git.close();
  }
  return { committer: median(viaCommitter), cycle: median(cycle), bare: median(bare) };

  async function commitOnce(i: number): Promise<{ landed: number; cycle: number }> {
    await writeFile(join(root, target), `edit ${i}\n`);
    const done = new Promise<void>((r) => (landed = r));
    const t0 = performance.now();
    committer.submit([target]);
    await done;
    const ms = performance.now() - t0;
    await committer.onIdle();
    return { landed: ms, cycle: performance.now() - t0 };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
