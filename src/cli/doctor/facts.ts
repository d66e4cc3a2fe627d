/**
 * `winnow doctor`'s facts: everything that decides whether winnow can keep its promises on this
 * machine, gathered by `gatherFacts` (the only effectful part of doctor) as plain data, judged by
 * checks.ts.
 */
import { access, constants, lstat, opendir, readFile, readdir, readlink, statfs } from 'node:fs/promises';
import { delimiter, join, relative, resolve } from 'node:path';
import type { Config } from '../../core/config/defaults.js';
import { ConfigError } from '../../core/config/schema.js';
import { loadWorkspaceConfig } from '../../adapters/config-file.js';
import type { ProcessRung } from '../../core/classify/ladder.js';
import { createGitRunner, GitError } from '../../adapters/git.js';
import type { GitRunner } from '../../ports/index.js';
import { resolveWorkspace, type Workspace } from '../../adapters/workspace.js';
import { hasCapSysAdmin } from '../../util/procfs.js';
import { listIgnoredDirs } from '../../daemon/watch/ignored-dirs.js';

export interface StateEntry {
  /** Relative to the state dir; '' is the state dir itself. */
  rel: string;
  isDir: boolean;
  mode: number;
  uid: number;
}

/** What `gatherFacts` found; every field is plain data so tests can write them by hand. */
export interface DoctorFacts {
  platform: NodeJS.Platform;
  nodeVersion: string;
  /** The process's effective uid (-1 where there is none). */
  uid: number;
  git: { version: string | null; error?: string };
  workspace: { root: string; gitDir: string; stateDir: string } | { error: string };
  config: { file: string | null; config: Config | null; error?: string };
  inotify: {
    maxUserWatches: number | null;
    maxUserInstances: number | null;
    /** Watches and instances this user's processes hold now (from /proc/PID/fdinfo); null if unread. */
    usedWatches: number | null;
    usedInstances: number | null;
    /** Directories in the workspace (outside .git): one inotify watch each. */
    workspaceDirs: number | null;
  } | null;
  fanotify: { capSysAdmin: boolean | null; fatrace: string | null };
  /**
   * Process tracing and lineage: strace and forkstat on PATH, Yama's ptrace_scope (null: no
   * Yama). Optional: absent means not looked at.
   */
  tracing?: { strace: string | null; forkstat: string | null; ptraceScope: number | null };
  /**
   * The autonomous processes with their evidence rung, from the running daemon's state (null:
   * no daemon running, so none is known).
   */
  processes?: ProcessRung[] | null;
  /** Entries of the state dir; null when it does not exist yet. */
  state: StateEntry[] | null;
  /** Paths winnow must be able to write, with the error when it cannot. */
  writable: { path: string; error: string | null }[];
  freeBytes: number | null;
  identity: { ok: boolean; error?: string };
  /** git-lfs: whether .gitattributes asks for it, whether it is installed, whether its filter is set up. */
  lfs?: { attributes: boolean; installed: boolean; filterConfigured: boolean };
}

async function readInt(file: string): Promise<number | null> {
  try {
    const n = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** Watches and instances held by processes of `uid`: inotify fds in /proc/PID/fd, `inotify wd:` lines in fdinfo. */
async function inotifyUsage(uid: number): Promise<{ watches: number; instances: number } | null> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  let watches = 0;
  let instances = 0;
  for (const pid of pids) {
    try {
      if ((await lstat(`/proc/${pid}`)).uid !== uid) continue;
      for (const fd of await readdir(`/proc/${pid}/fd`)) {
        const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
        if (target !== 'anon_inode:inotify') continue;
        instances++;
        const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8').catch(() => '');
        watches += info.split('\n').filter((l) => l.startsWith('inotify wd:')).length;
      }
    } catch {
      // A process that exited or is not ours to read.
    }
  }
  return { watches, instances };
}

/**
 * Directories under root outside .git and the folders git ignores as a whole (winnow does not
 * watch those), stopping at `cap` (an upper bound is all the check needs).
 */
async function countDirs(root: string, skip: ReadonlySet<string>, cap = 1_000_000): Promise<number | null> {
  let n = 0;
  const stack = [root];
  try {
    while (stack.length && n < cap) {
      const dir = stack.pop()!;
      n++;
      const d = await opendir(dir).catch(() => null);
      if (!d) continue;
      for await (const e of d) {
        if (e.isDirectory() && !(dir === root && e.name === '.git') && !skip.has(join(dir, e.name))) stack.push(join(dir, e.name));
      }
    }
  } catch {
    return null;
  }
  return n;
}

/** The folders the daemon leaves unwatched (watch/ignored-dirs.ts), absolute; none if git cannot tell. */
async function unwatchedDirs(root: string, env: NodeJS.ProcessEnv): Promise<Set<string>> {
  const dirs = await listIgnoredDirs(createGitRunner(root, { timeoutMs: 30_000, env })).catch(() => []);
  return new Set(dirs.map((d) => join(root, d)));
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

async function stateEntries(stateDir: string): Promise<StateEntry[] | null> {
  const top = await lstat(stateDir).catch(() => null);
  if (!top) return null;
  const out: StateEntry[] = [{ rel: '', isDir: top.isDirectory(), mode: top.mode, uid: top.uid }];
  const stack = top.isDirectory() ? [stateDir] : [];
  while (stack.length) {
    const dir = stack.pop()!;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const abs = join(dir, name);
      const s = await lstat(abs).catch(() => null);
      if (!s || s.isSymbolicLink()) continue;
      // Snapshots hold git bundles: their privacy matters as much as the state file's.
      out.push({ rel: relative(stateDir, abs), isDir: s.isDirectory(), mode: s.mode, uid: s.uid });
      if (s.isDirectory()) stack.push(abs);
    }
  }
  return out;
}

/** Config and rule files through the same loader `start` uses, so doctor judges what would run. */
function loadConfig(ws: Workspace, configFlag: string | undefined, cwd: string): DoctorFacts['config'] {
  try {
    const loaded = loadWorkspaceConfig(ws.root, configFlag === undefined ? undefined : resolve(cwd, configFlag));
    const rules = loaded.ruleSources.length ? ` with rules from ${loaded.ruleSources.join(', ')}` : '';
    return { file: loaded.configFile ? `${loaded.configFile}${rules}` : null, config: loaded.config };
  } catch (e) {
    if (e instanceof ConfigError) return { file: configFlag ?? null, config: null, error: e.message };
    throw e;
  }
}

export async function gatherFacts(opts: { dir?: string; config?: string; cwd: string; env: NodeJS.ProcessEnv }): Promise<DoctorFacts> {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
  const linux = process.platform === 'linux';
  const run = createGitRunner(opts.cwd, { timeoutMs: 10_000, env: opts.env });

  let git: DoctorFacts['git'];
  try {
    git = { version: (await run(['--version'], { readOnly: true })).stdout.toString('utf8').trim() };
  } catch (e) {
    git = { version: null, error: e instanceof GitError && e.notFound ? 'git was not found on PATH' : (e as Error).message };
  }

  let ws: Workspace | null = null;
  let workspace: DoctorFacts['workspace'];
  try {
    ws = await resolveWorkspace(opts.dir, opts.cwd);
    workspace = ws;
  } catch (e) {
    workspace = { error: (e as Error).message };
  }

  const config = ws ? loadConfig(ws, opts.config, opts.cwd) : { file: null, config: null };

  let inotify: DoctorFacts['inotify'] = null;
  if (linux) {
    const usage = uid >= 0 ? await inotifyUsage(uid) : null;
    inotify = {
      maxUserWatches: await readInt('/proc/sys/fs/inotify/max_user_watches'),
      maxUserInstances: await readInt('/proc/sys/fs/inotify/max_user_instances'),
      usedWatches: usage?.watches ?? null,
      usedInstances: usage?.instances ?? null,
      workspaceDirs: ws ? await countDirs(ws.root, await unwatchedDirs(ws.root, opts.env)) : null,
    };
  }

  const capSysAdmin = linux ? hasCapSysAdmin(await readFile('/proc/self/status', 'utf8').catch(() => '')) : null;
  const fatrace = linux ? await onPath('fatrace', opts.env) : null;
  const tracing: DoctorFacts['tracing'] = linux
    ? {
        strace: await onPath('strace', opts.env),
        forkstat: await onPath('forkstat', opts.env),
        ptraceScope: await readInt('/proc/sys/kernel/yama/ptrace_scope'),
      }
    : undefined;

  const writable: DoctorFacts['writable'] = [];
  let freeBytes: number | null = null;
  let identity: DoctorFacts['identity'] = { ok: true };
  let state: StateEntry[] | null = null;
  let processes: ProcessRung[] | null = null;
  if (ws) {
    // A linked worktree's git dir (.git/worktrees/NAME) has no objects of its own: they are in the common dir.
    const common = await run(['rev-parse', '--git-common-dir'], { cwd: ws.root, readOnly: true }).then(
      (r) => resolve(ws.root, r.stdout.toString('utf8').trim() || ws.gitDir),
      () => ws.gitDir,
    );
    for (const p of [ws.root, ws.gitDir, join(common, 'objects')]) {
      const err = await access(p, constants.W_OK).then(
        () => null,
        (e: NodeJS.ErrnoException) => e.code ?? e.message,
      );
      writable.push({ path: p, error: err });
    }
    try {
      const s = await statfs(ws.gitDir);
      freeBytes = Number(s.bavail) * Number(s.bsize);
    } catch {
      freeBytes = null;
    }
    try {
      await run(['var', 'GIT_COMMITTER_IDENT'], { cwd: ws.root, readOnly: true });
    } catch (e) {
      identity = { ok: false, error: String((e as { stderr?: string }).stderr ?? '').trim().split('\n').pop() || undefined };
    }
    state = await stateEntries(ws.stateDir);
    processes = await daemonRungs(ws.stateDir);
  }
  const lfs = ws ? await lfsFacts(ws, run) : undefined;

  return {
    platform: process.platform,
    nodeVersion: process.version,
    uid,
    git,
    workspace,
    config,
    inotify,
    fanotify: { capSysAdmin, fatrace },
    ...(tracing ? { tracing } : {}),
    processes,
    state,
    writable,
    freeBytes,
    identity,
    ...(lfs ? { lfs } : {}),
  };
}

/** The running daemon's per-process rungs (`state.json` evidence.processes), or null when none runs. */
async function daemonRungs(stateDir: string): Promise<ProcessRung[] | null> {
  try {
    const st = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as { pid?: number; evidence?: { processes?: ProcessRung[] } };
    if (typeof st.pid !== 'number') return null;
    try {
      process.kill(st.pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') return null;
    }
    return Array.isArray(st.evidence?.processes) ? st.evidence!.processes! : null;
  } catch {
    return null;
  }
}

/** Whether the workspace's attributes use git-lfs (root .gitattributes, info/attributes), and whether git-lfs can serve them. */
async function lfsFacts(ws: Workspace, git: GitRunner): Promise<NonNullable<DoctorFacts['lfs']>> {
  const texts = await Promise.all([join(ws.root, '.gitattributes'), join(ws.gitDir, 'info', 'attributes')].map((p) => readFile(p, 'utf8').catch(() => '')));
  const attributes = texts.some((t) => /(^|\s)filter=lfs(\s|$)/m.test(t));
  if (!attributes) return { attributes, installed: false, filterConfigured: false };
  const installed = await git(['lfs', 'version'], { cwd: ws.root, readOnly: true }).then(() => true, () => false);
  const filterConfigured = await git(['config', '--get', 'filter.lfs.clean'], { cwd: ws.root, readOnly: true }).then((r) => r.stdout.toString('utf8').trim() !== '', () => false);
  return { attributes, installed, filterConfigured };
}

