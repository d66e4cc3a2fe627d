/**
 * Fault-injection suite helpers: the built daemon as a child process on a temp repo, its log lines
 * as events, `status --json`, `git fsck`, and history checks that fail when a crash lost,
 * duplicated or reverted work.
 *
 * Waiting is on log lines (awaiter made before the action) or on cookie commits; a status poll
 * with a generous bound is the last resort for states that have no log line.
 */
import type { TestContext } from 'node:test';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { tempRepo, GIT_ENV, type TempRepo } from '../helpers/repo.js';
import { DaemonProcess, winnow, fastConfig, type LogLine } from '../helpers/daemon.js';

export { DaemonProcess, winnow, fastConfig, type LogLine };

const execFileP = promisify(execFile);
const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/**
 * Why the suite cannot run, or undefined when it can: the suite drives `bin/winnow.js`, which loads
 * `dist/` (run `npm run build` first; `npm test` does).
 */
export const notBuilt: string | undefined = (() => {
  const start = `${DIST}cli/commands/start.js`;
  if (!existsSync(start)) return 'dist/ is missing: run `npm run build` before the fault suite';
  if (readFileSync(start, 'utf8').includes('is not built yet')) return 'the built `winnow start` is still the placeholder: run `npm run build` after the daemon lands';
  if (!existsSync(`${DIST}daemon/commit/committer.js`)) return 'dist/daemon/commit/committer.js is missing: run `npm run build`';
  return undefined;
})();

/** Upper bound for one fault case: a safety net against a hang, never an assertion on speed. */
export const CASE_TIMEOUT_MS = 120_000;

export interface FaultWorkspace {
  repo: TempRepo;
  root: string;
  /** The config file, outside the work tree so that it is never a change to commit. */
  configFile: string;
  stateDir: string;
  /** The initial commit: every later commit must descend from it (history never rewritten). */
  base: string;
  /** Starts the daemon (killed at the end of the test if still running). */
  start(env?: NodeJS.ProcessEnv, extraArgs?: string[]): DaemonProcess;
  git(...args: string[]): string;
  write(rel: string, content: string | Buffer): Promise<void>;
  /** Rewrites the config file: the fast test config plus `config` (takes effect at the next start). */
  setConfig(config: Record<string, unknown>): Promise<void>;
}

/**
 * A temp repo with the fast test config (plus `config`), cleaned up after the test together with
 * every daemon started through it.
 */
export async function faultWorkspace(
  t: TestContext,
  config: Record<string, unknown> = {},
  opts: { configInRepo?: boolean } = {},
): Promise<FaultWorkspace> {
  const repo = await tempRepo();
  // configInRepo: the config is the workspace's own committed .winnow.json (as a pull may change it).
  const configFile = opts.configInRepo ? `${repo.root}/.winnow.json` : `${repo.root}-winnow.json`;
  const setConfig = (c: Record<string, unknown>) =>
    writeFile(configFile, fastConfig({ retry: { attempts: 50, baseMs: 50, maxMs: 500, breakerCooldownMs: 500 }, ...c }) + '\n');
  await setConfig(config);
  if (opts.configInRepo) {
    repo.git('add', '.winnow.json');
    repo.git('commit', '-q', '-m', 'winnow config');
  }
  const daemons: DaemonProcess[] = [];
  // Diagnostics only: shortly before the case's time limit, show what each daemon last logged.
  const watchdog = setTimeout(() => {
    for (const d of daemons) process.stderr.write(`--- ${t.name}: daemon ${d.child.pid} last lines ---\n${tail(d, 15)}\n`);
  }, CASE_TIMEOUT_MS - 5_000);
  watchdog.unref();
  t.after(async () => {
    clearTimeout(watchdog);
    for (const d of daemons) await d.kill().catch(() => undefined);
    await repo.cleanup();
    if (!opts.configInRepo) await rm(configFile, { force: true });
  });
  return {
    repo,
    root: repo.root,
    configFile,
    stateDir: `${repo.root}/.git/winnow`,
    base: repo.git('rev-parse', 'HEAD').trim(),
    start(env = {}, extraArgs = []) {
      const d = new DaemonProcess(repo.root, [...(opts.configInRepo ? [] : ['--config', configFile]), ...extraArgs], env);
      daemons.push(d);
      // Awaiters rejected by an exit nobody waits for must not surface as unhandled rejections.
      d.exited.catch(() => undefined);
      return d;
    },
    git: repo.git,
    write: repo.write,
    setConfig,
  };
}

/** A promise that never reports an unhandled rejection when the caller abandons it. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** `winnow status DIR --json`, parsed. */
export { status, statusUntil } from '../helpers/daemon.js';

/** `git fsck --full --strict`: the repository is valid (dangling objects from a killed commit are fine). */
export async function fsck(root: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await execFileP('git', ['fsck', '--full', '--strict', '--no-dangling', '--no-progress'], { cwd: root, env: GIT_ENV });
    return { ok: true, output: stdout + stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` || err.message };
  }
}

/** Content of `path` at HEAD, or null when HEAD does not have it. */
export function headContent(ws: FaultWorkspace, path: string): Buffer | null {
  try {
    return Buffer.from(ws.git('show', `HEAD:${path}`), 'utf8');
  } catch {
    return null;
  }
}

/** The blob id git would give `content`, compared with HEAD's (binary-safe). */
export function headBlobId(ws: FaultWorkspace, path: string): string | null {
  try {
    return ws.git('rev-parse', `HEAD:${path}`).trim();
  } catch {
    return null;
  }
}

function matchesHead(ws: FaultWorkspace, expected: Record<string, string | null>): string[] {
  const wrong: string[] = [];
  for (const [path, want] of Object.entries(expected)) {
    const got = headContent(ws, path);
    if (want === null ? got !== null : got === null || got.toString('utf8') !== want) wrong.push(path);
  }
  return wrong;
}

/**
 * Resolves once HEAD holds every path with the expected content (null: absent). Checks after each
 * commit line, with the awaiter for the next line made before each check, so no commit slips by.
 */
export async function committed(d: DaemonProcess, ws: FaultWorkspace, expected: Record<string, string | null>): Promise<void> {
  for (;;) {
    const next = quiet(d.next((l) => l.msg === 'commit'));
    if (matchesHead(ws, expected).length === 0) return;
    try {
      await next;
    } catch (e) {
      throw new Error(`${(e as Error).message}\nstill not committed: ${matchesHead(ws, expected).join(', ')}`);
    }
  }
}

let cookieSeq = 0;

/**
 * A barrier: writes a fresh cookie file and waits for the commit that holds it. Everything written
 * before it with the same settle window has been decided by then (STYLE.md habit 9).
 */
export async function cookie(d: DaemonProcess, ws: FaultWorkspace): Promise<string> {
  const path = `cookies/${process.pid}-${++cookieSeq}-${randomBytes(3).toString('hex')}.txt`;
  const seen = quiet(d.commitOf(path));
  await ws.write(path, `cookie ${path}\n`);
  const line = await seen;
  return String(line.sha);
}

export interface HistoryCommit {
  sha: string;
  tree: string;
  parents: string[];
  subject: string;
  /** Paths this commit changed (against its first parent). */
  files: string[];
}

/** Commits after `base` on HEAD's first-parent line, oldest first. */
export function commitsSince(ws: FaultWorkspace, base = ws.base): HistoryCommit[] {
  const out = ws.git('log', '--first-parent', '--reverse', '-z', '--format=%H %T %P%x01%s', `${base}..HEAD`);
  return out
    .split('\0')
    .filter(Boolean)
    .map((rec) => {
      const [ids = '', subject = ''] = rec.split('\x01');
      const [sha = '', tree = '', ...parents] = ids.trim().split(' ');
      const files = ws.git('diff-tree', '--no-commit-id', '-r', '--name-only', '-z', `${sha}^`, sha).split('\0').filter(Boolean);
      return { sha, tree, parents, subject, files };
    });
}

/**
 * What is wrong with the history since `base`, as sentences (empty when sound): the base is no
 * longer an ancestor (history rewritten), a merge appeared, a commit changes nothing (a duplicate
 * of the last one), or a commit restores its grandparent's tree (it reverts the previous commit).
 */
export function historyProblems(ws: FaultWorkspace, base = ws.base): string[] {
  const problems: string[] = [];
  try {
    ws.git('merge-base', '--is-ancestor', base, 'HEAD');
  } catch {
    return [`the base commit ${base} is no longer an ancestor of HEAD: history was rewritten`];
  }
  const commits = commitsSince(ws, base);
  const trees = [ws.git('rev-parse', `${base}^{tree}`).trim(), ...commits.map((c) => c.tree)];
  commits.forEach((c, i) => {
    if (c.parents.length !== 1) problems.push(`${c.sha} has ${c.parents.length} parents`);
    if (trees[i + 1] === trees[i]) problems.push(`${c.sha} "${c.subject}" changes nothing: a duplicate commit`);
    else if (i >= 1 && trees[i + 1] === trees[i - 1]) problems.push(`${c.sha} "${c.subject}" restores the tree before the previous commit: a reverting commit`);
  });
  return problems;
}

/** Commits since base whose diff touches `path`. */
export function commitsTouching(ws: FaultWorkspace, path: string, base = ws.base): HistoryCommit[] {
  return commitsSince(ws, base).filter((c) => c.files.includes(path));
}

/** `git status --porcelain` lines for the given paths (empty: working tree and HEAD agree). */
export function uncommitted(ws: FaultWorkspace, paths: string[]): string[] {
  return ws
    .git('status', '--porcelain=v1', '-z', '--untracked-files=all', '--', ...paths)
    .split('\0')
    .filter(Boolean);
}

/** The last `n` stderr lines, for failure messages. */
export function tail(d: DaemonProcess, n = 25): string {
  return d.stderrText.slice(-n).join('\n');
}

/** Next line with `msg` (optionally also matching `pred`), as a promise made now. */
export function nextLog(d: DaemonProcess, msg: string, pred: (l: LogLine) => boolean = () => true): Promise<LogLine> {
  return quiet(d.next((l) => l.msg === msg && pred(l)));
}

/** First line (seen or future) with `msg`. */
export function anyLog(d: DaemonProcess, msg: string, pred: (l: LogLine) => boolean = () => true): Promise<LogLine> {
  return quiet(d.waitFor((l) => l.msg === msg && pred(l)));
}

/** Whichever settles first (a rejection counts as settling), labelled. */
export function race<K extends string>(ps: Record<K, Promise<unknown>>): Promise<{ which: K; value?: unknown; error?: Error }> {
  return Promise.race(
    (Object.entries(ps) as [K, Promise<unknown>][]).map(([which, p]) =>
      p.then(
        (value) => ({ which, value }),
        (error: Error) => ({ which, error }),
      ),
    ),
  );
}
