/**
 * Commit micro-benchmark: median wall time of one single-path commit through the committer, its
 * batch settled as in the daemon (the person's index read ahead), from submit to recorded: HEAD
 * moved with the note, the person's index brought up to date, `onCommitted` ran. Measured on a
 * small repo and on one with 50k tracked files; also when the commit was in the history (HEAD
 * moved) and the whole cycle (submit → idle).
 *
 * The 50k-file repo is generated in one `git fast-import` stream and checked out once — never
 * 50k spawns. The commits are made in a node of their own (commit-child.ts), as the daemon's
 * are. Also printed (stderr, when `WINNOW_BENCH_VERBOSE` is set): each step's time, and the bare
 * `git commit --only`, to tell git's cost from the committer's own.
 */
import { spawn, execFile, execFileSync } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGit } from '../../adapters/git.js';
import { nodeFs } from '../../adapters/node-fs.js';
import { systemClock } from '../../adapters/system-clock.js';
import { createCommitter } from '../../daemon/commit/committer.js';
import { mergeConfig } from '../../core/config/schema.js';
import { planCommit } from '../../core/commit/plan.js';
import { createPersonGitCheck } from '../../adapters/git-processes.js';
import type { Git, GitStep } from '../../ports/index.js';

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
  /** Submit → commit recorded: HEAD moved, the person's index brought up to date for the paths, median. */
  commitMsSmall: number;
  commitMs50k: number;
  /** Submit → HEAD moved (the commit is in the history; the person's index and the note follow), median. */
  inHistoryMsSmall: number;
  inHistoryMs50k: number;
  /** Submit → idle: the above plus the person's index brought up to date, median. */
  cycleMsSmall: number;
  cycleMs50k: number;
  files: number;
  /** Peak RSS of the node that made the commits (a fork's cost grows with it, as in the daemon). */
  rssMb: number;
  /** Where one commit's time goes at `files` tracked files: each git call and check, median ms per commit. */
  steps50k: CommitStep[];
}

/** One step of a commit (a git spawn, a cat-file round trip, the person's-git check) and its median time. */
export interface CommitStep {
  step: string;
  ms: number;
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
    const { s, l, rssMb } = await inOwnProcess(small, large, runs);
    if (process.env.WINNOW_BENCH_VERBOSE) {
      process.stderr.write(
        `commit (measured in a node of its own, peak RSS ${rssMb.toFixed(1)} MB): small ${s.committer.toFixed(2)} ms landed, ${s.cycle.toFixed(2)} ms with the index update ` +
          `(bare commit --only ${s.bare.toFixed(2)} ms); ${files} files ${l.committer.toFixed(2)} ms landed, ` +
          `${l.cycle.toFixed(2)} ms with the index update (bare commit --only ${l.bare.toFixed(2)} ms); in the history after ${s.inHistory.toFixed(2)} / ${l.inHistory.toFixed(2)} ms\n` +
          `commit steps at ${files} files (median ms per commit, in order):\n` +
          l.steps.map((x) => `  ${x.ms.toFixed(2).padStart(8)}  ${x.step}\n`).join(''),
      );
    }
    return {
      commitMsSmall: round(s.committer),
      commitMs50k: round(l.committer),
      inHistoryMsSmall: round(s.inHistory),
      inHistoryMs50k: round(l.inHistory),
      cycleMsSmall: round(s.cycle),
      cycleMs50k: round(l.cycle),
      files,
      rssMb: round(rssMb),
      steps50k: l.steps.map((x) => ({ step: x.step, ms: round(x.ms) })),
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

type RepoFigures = { committer: number; cycle: number; inHistory: number; bare: number; steps: CommitStep[] };

/**
 * Both repos measured in a node of their own (commit-child.ts), as the daemon commits in its own
 * process. Node 20's libuv forks to spawn, and a fork costs with the caller's memory: /bin/true
 * took 1.5 ms from a 44 MB node and 10.6 ms from a 154 MB one. In the bench's process, which had
 * built the fast-import streams and run other benchmarks, every git spawn of a commit measured the
 * bench's memory, and grew run after run (docs/benchmarks.md).
 */
function inOwnProcess(small: string, large: string, runs: number): Promise<{ s: RepoFigures; l: RepoFigures; rssMb: number }> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const child = fileURLToPath(new URL(`./commit-child${ext}`, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...loaderArgs(process.execArgv), child, small, large, String(runs)], { env: { ...process.env, ...ENV }, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`commit micro-benchmark failed: ${stderr.trim().split('\n').pop() || err.message}`));
      resolve(JSON.parse(stdout) as { s: RepoFigures; l: RepoFigures; rssMb: number });
    });
  });
}

/** node's own flags (`--import tsx` under the tests), without a script given inline (`-e`), which the child would run instead. */
function loaderArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (['-e', '--eval', '-p', '--print'].includes(a)) i++;
    else if (!a.startsWith('--input-type') && !a.startsWith('--eval=') && !a.startsWith('--print=')) out.push(a);
  }
  return out;
}

export async function measureRepo(root: string, runs: number): Promise<RepoFigures> {
  const gitDir = join(root, '.git');
  const stateDir = join(gitDir, 'winnow');
  const saved = { ...process.env };
  Object.assign(process.env, ENV);
  const plainGit = await createGit(root, { gitDir, stateDir, timeoutMs: 60_000, hooks: false });
  Object.assign(process.env, saved);
  const timer = stepTimer();
  const git = timer.wrap(plainGit);
  const config = mergeConfig({ rateLimit: { maxPerHour: 1_000_000, maxPerDay: 1_000_000 }, health: { minFreeBytes: 0 } });
  let landed: (() => void) | null = null;
  const committer = createCommitter({
    git,
    fs: nodeFs,
    clock: systemClock,
    scheduler: systemClock,
    // The commit line's atMs: when HEAD moved.
    logger: { log: (_level, msg, fields) => void (msg === 'commit' && (refAt = fields?.atMs as number)) },
    config,
    root,
    stateDir,
    isPaused: async () => false,
    onCommitted: () => landed?.(),
    // The daemon's own check, so its cost (a walk of /proc) is in the figure.
    personGit: timer.time('person-git check (/proc)', createPersonGitCheck(root, gitDir)),
  });
  const target = pathOf(0);
  let refAt = 0;
  const viaCommitter: number[] = [];
  const inHistory: number[] = [];
  const cycle: number[] = [];
  const bare: number[] = [];
  try {
    // Warm-up (page cache, the cat-file-free path, node's JIT), not measured.
    for (let i = 0; i < 3; i++) await commitOnce(i);
    for (let i = 0; i < runs; i++) {
      timer.begin();
      const r = await commitOnce(100 + i);
      timer.end(r.cycle);
      viaCommitter.push(r.landed);
      inHistory.push(r.inHistory);
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
  return { committer: median(viaCommitter), cycle: median(cycle), inHistory: median(inHistory), bare: median(bare), steps: timer.medians() };

  async function commitOnce(i: number): Promise<{ landed: number; cycle: number; inHistory: number }> {
    await writeFile(join(root, target), `edit ${i}\n`);
    // As the daemon does while the batch settles (service.ts): the person's index is read ahead,
    // off the commit's path (the settle is 500 ms or more; the read ~7 ms at 50k files).
    plainGit.prefetchIndex?.([target]);
    await new Promise((r) => setImmediate(r));
    const done = new Promise<void>((r) => (landed = r));
    const wall0 = Date.now();
    const t0 = performance.now();
    committer.submit([target]);
    await done;
    const ms = performance.now() - t0;
    await committer.onIdle();
    return { landed: ms, cycle: performance.now() - t0, inHistory: refAt - wall0 };
  }
}

/**
 * Times every call a commit makes through the Git port (each planned step by its git subcommand,
 * the cat-file round trips, the checks) and whatever else is wrapped with `time`, per commit.
 * What no wrapped call covers is reported as the committer's own time (node: fs, scans, plans).
 */
function stepTimer() {
  let current: Map<string, number> | null = null;
  let order: string[] = [];
  const commits: { steps: Map<string, number>; total: number }[] = [];
  const add = (label: string, ms: number) => {
    if (!current) return;
    if (!current.has(label) && !order.includes(label)) order.push(label);
    current.set(label, (current.get(label) ?? 0) + ms);
  };
  function time<A extends unknown[], R>(label: string | ((...a: A) => string), fn: (...a: A) => Promise<R>): (...a: A) => Promise<R> {
    return async (...a: A) => {
      const t0 = performance.now();
      try {
        return await fn(...a);
      } finally {
        add(typeof label === 'string' ? label : label(...a), performance.now() - t0);
      }
    };
  }
  return {
    time,
    wrap(git: Git): Git {
      const out = { ...git } as Record<string, unknown>;
      for (const [k, v] of Object.entries(git)) {
        if (typeof v !== 'function') continue;
        const fn = (v as (...a: unknown[]) => Promise<unknown>).bind(git);
        out[k] =
          k === 'run'
            ? async (steps: GitStep[]) => {
                const results: { stdout: string; stderr: string }[] = [];
                for (const st of steps) {
                  // A command started before its input (commit/prestart.ts) is timed from the input on:
                  // its wait belongs to whatever came before it, often another commit.
                  let from = performance.now();
                  const pre = st.stdin instanceof Promise;
                  if (pre) void (st.stdin as Promise<unknown>).then(() => (from = performance.now()), () => undefined);
                  try {
                    results.push(...((await fn([st])) as { stdout: string; stderr: string }[]));
                  } finally {
                    add(`git ${stepName(st)}${pre ? ' (prestarted)' : ''}`, performance.now() - from);
                  }
                }
                return results;
              }
            : time(`git.${k}()`, fn);
      }
      return out as unknown as Git;
    },
    begin() {
      current = new Map();
    },
    end(total: number) {
      if (current) commits.push({ steps: current, total });
      current = null;
    },
    medians(): CommitStep[] {
      const rows = order.map((step) => ({ step, ms: median(commits.map((c) => c.steps.get(step) ?? 0)) }));
      const own = median(commits.map((c) => c.total - [...c.steps.values()].reduce((a, b) => a + b, 0)));
      return [...rows, { step: "committer's own (node: stat, secret scan, plans, journal)", ms: own }];
    },
  };
}

/** `update-index --index-info`, `ls-files -s` …: the subcommand and its first options, no paths or config. */
function stepName(st: GitStep): string {
  const a: string[] = [];
  for (let i = 0; i < st.args.length; i++) {
    const x = st.args[i]!;
    if (x === '-c') {
      i++;
      continue;
    }
    if (x === '--' || a.length >= 3) break;
    if (a.length && !x.startsWith('-')) continue;
    a.push(x);
  }
  const file = st.env?.GIT_INDEX_FILE;
  const idx = !file ? '' : file.endsWith('/batch-index') ? ' (batch index)' : file.endsWith('/no-index') ? ' (no index)' : ' (private index)';
  return a.join(' ') + idx;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
