import { access, constants, lstat, opendir, readFile, readdir, readlink, statfs } from 'node:fs/promises';
import { delimiter, join, relative, resolve } from 'node:path';
import type { CliIO, CommandSpec } from '../types.js';
import { DEFAULTS, type Config } from '../../core/config/defaults.js';
import { ConfigError } from '../../core/config/schema.js';
import { loadWorkspaceConfig } from '../../adapters/config-file.js';
import { RUNG_LABEL, type ProcessRung } from '../../core/classify/ladder.js';
import { createGitRunner, GitError } from '../../adapters/git.js';
import type { GitRunner } from '../../ports/index.js';
import { resolveWorkspace, type Workspace } from '../../adapters/workspace.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';
import { hasCapSysAdmin } from '../../util/procfs.js';

export { hasCapSysAdmin };

/**
 * `winnow doctor`: everything that decides whether winnow can keep its promises on this machine.
 * Facts are gathered by `gatherFacts` (the only effectful part) and judged by the pure `evaluate`,
 * so each verdict is a row in a unit-test table.
 */

export type CheckStatus = 'ok' | 'info' | 'warn' | 'fail';

export interface Check {
  id: string;
  status: CheckStatus;
  /** One line: what was found. */
  summary: string;
  /** What to do about it (warn/fail), naming the file, key or sysctl. */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  workspace: string | null;
  evidence: { fanotify: 'available' | 'unavailable' | 'off'; openHandle: boolean | 'own-processes'; temporal: boolean | 'own-processes' };
  /** Per autonomous process of the running daemon: its evidence rung and how to move it up. */
  processes?: ProcessRung[];
  checks: Check[];
}

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

/** Minimum git for the features winnow uses (`--pathspec-from-file`, `--pathspec-file-nul`). */
const GIT_MIN: [number, number] = [2, 25];
/** Sync replays local commits with `git merge-tree --write-tree`, new in 2.38. */
const GIT_SYNC_MIN: [number, number] = [2, 38];
/** Below this, a known race on `index.lock` during merges can make a commit fail mid-merge. */
const GIT_RECOMMENDED: [number, number] = [2, 46];
/** Head-room over the directories counted: editors, language servers and other watchers share the limit. */
const WATCH_HEADROOM = 2;
const SUGGESTED_WATCHES = 524_288;
const SUGGESTED_INSTANCES = 512;
/** A subscription takes one inotify instance; below this, a few editors exhaust it. */
const MIN_FREE_INSTANCES = 8;

export function parseGitVersion(out: string): [number, number, number] | null {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(out);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

function below(v: [number, number, number], min: [number, number]): boolean {
  return v[0] < min[0] || (v[0] === min[0] && v[1] < min[1]);
}


const fmtBytes = (n: number) =>
  n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(0)} MiB` : `${n} bytes`;
const octal = (m: number) => (m & 0o777).toString(8).padStart(4, '0');

/** Pure: facts → verdicts. Exit code 1 when any check fails. */
export function evaluate(f: DoctorFacts): DoctorReport {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);

  const nodeMajor = Number(f.nodeVersion.replace(/^v/, '').split('.')[0]);
  add(
    nodeMajor >= 20
      ? { id: 'node', status: 'ok', summary: `Node ${f.nodeVersion}` }
      : { id: 'node', status: 'fail', summary: `Node ${f.nodeVersion} is too old`, fix: 'Install Node 20 or newer.' },
  );

  // git
  const gv = f.git.version ? parseGitVersion(f.git.version) : null;
  if (!f.git.version || !gv) {
    add({ id: 'git', status: 'fail', summary: `git not usable: ${f.git.error ?? 'version not recognised'}`, fix: 'Install git 2.46 or newer and make sure it is on PATH.' });
  } else if (below(gv, GIT_MIN)) {
    add({ id: 'git', status: 'fail', summary: `git ${gv.join('.')} is older than ${GIT_MIN.join('.')}: winnow needs --pathspec-from-file`, fix: 'Install git 2.46 or newer.' });
  } else if (below(gv, GIT_RECOMMENDED)) {
    add({
      id: 'git',
      status: 'warn',
      summary: `git ${gv.join('.')} is older than ${GIT_RECOMMENDED.join('.')}, which has a known race on index.lock during merges`,
      fix: 'Upgrade git to 2.46 or newer; until then an auto-commit may occasionally retry while you merge.',
    });
  } else {
    add({ id: 'git', status: 'ok', summary: `git ${gv.join('.')}` });
  }

  // workspace and config
  const ws = 'error' in f.workspace ? null : f.workspace;
  if (!ws) add({ id: 'workspace', status: 'fail', summary: (f.workspace as { error: string }).error });
  else add({ id: 'workspace', status: 'ok', summary: ws.root });

  const cfg = f.config.config ?? DEFAULTS;
  if (f.config.error) add({ id: 'config', status: 'fail', summary: f.config.error, fix: 'Fix the file, key or line named above; `winnow rules check` validates config and rules.' });
  else if (ws) add({ id: 'config', status: 'ok', summary: f.config.file ? `${f.config.file}: valid` : 'no .winnow.json: defaults apply' });

  if (gv && cfg.remote && below(gv, GIT_SYNC_MIN)) {
    add({
      id: 'git-sync',
      status: 'fail',
      summary: `git ${gv.join('.')} cannot sync: \`remote\` is set and the replay needs git merge-tree --write-tree (${GIT_SYNC_MIN.join('.')} or newer)`,
      fix: `Install git ${GIT_SYNC_MIN.join('.')} or newer (2.46 or newer recommended), or remove \`remote\` from the config.`,
    });
  }

  if (ws && !f.identity.ok) {
    add({
      id: 'identity',
      status: 'warn',
      summary: `git has no committer identity here${f.identity.error ? ` (${f.identity.error})` : ''}`,
      fix: `Set one: git -C ${ws.root} config user.name "Your Name" && git -C ${ws.root} config user.email you@example.com`,
    });
  }

  // inotify (Linux): one watch per directory, one instance per subscription
  if (f.inotify) {
    const i = f.inotify;
    const sysctlW = `sudo sysctl fs.inotify.max_user_watches=${SUGGESTED_WATCHES} (persist it in /etc/sysctl.d/90-winnow.conf)`;
    const sysctlI = `sudo sysctl fs.inotify.max_user_instances=${SUGGESTED_INSTANCES} (persist it in /etc/sysctl.d/90-winnow.conf)`;
    if (i.maxUserWatches === null) {
      add({ id: 'inotify-watches', status: 'warn', summary: 'cannot read /proc/sys/fs/inotify/max_user_watches', fix: 'Check it with `sysctl fs.inotify.max_user_watches`.' });
    } else {
      const need = (i.workspaceDirs ?? 0) + (i.usedWatches ?? 0);
      const what = `fs.inotify.max_user_watches = ${i.maxUserWatches}${i.workspaceDirs !== null ? `; the workspace has ${i.workspaceDirs} director${i.workspaceDirs === 1 ? "y" : "ies"}` : ''}${i.usedWatches !== null ? `; your processes hold ${i.usedWatches} watches` : ''}`;
      if (need > i.maxUserWatches) {
        add({ id: 'inotify-watches', status: 'fail', summary: `${what}: the limit will be hit and winnow falls back to periodic rescans`, fix: `Raise it: ${sysctlW}.` });
      } else if (need * WATCH_HEADROOM > i.maxUserWatches) {
        add({ id: 'inotify-watches', status: 'warn', summary: `${what}: little head-room left`, fix: `Raise it: ${sysctlW}.` });
      } else {
        add({ id: 'inotify-watches', status: 'ok', summary: what });
      }
    }
    if (i.maxUserInstances === null) {
      add({ id: 'inotify-instances', status: 'warn', summary: 'cannot read /proc/sys/fs/inotify/max_user_instances', fix: 'Check it with `sysctl fs.inotify.max_user_instances`.' });
    } else {
      const streams = cfg.streams.length;
      const free = i.maxUserInstances - (i.usedInstances ?? 0);
      const what = `fs.inotify.max_user_instances = ${i.maxUserInstances}${i.usedInstances !== null ? `, ${i.usedInstances} in use` : ''}; winnow needs ${streams}`;
      if (free < streams) add({ id: 'inotify-instances', status: 'fail', summary: `${what}: the watcher cannot start`, fix: `Raise it: ${sysctlI}.` });
      else if (free < streams + MIN_FREE_INSTANCES) add({ id: 'inotify-instances', status: 'warn', summary: `${what}: little head-room left`, fix: `Raise it: ${sysctlI}.` });
      else add({ id: 'inotify-instances', status: 'ok', summary: what });
    }
  }

  // fanotify through fatrace (layer 2's exact evidence)
  const mode = cfg.autonomous.fanotify;
  const privileged = f.platform === 'linux' && (f.uid === 0 || f.fanotify.capSysAdmin === true);
  const fanAvailable = privileged && f.fanotify.fatrace !== null;
  if (mode === 'off') {
    add({ id: 'fanotify', status: 'info', summary: 'fanotify writer attribution is off (autonomous.fanotify = "off")' });
  } else if (fanAvailable) {
    add({ id: 'fanotify', status: 'ok', summary: `fanotify writer attribution available (${f.uid === 0 ? 'root' : 'CAP_SYS_ADMIN'}, ${f.fanotify.fatrace})` });
  } else {
    const why =
      f.platform !== 'linux'
        ? 'fanotify exists only on Linux'
        : [!privileged ? 'needs root or CAP_SYS_ADMIN' : null, f.fanotify.fatrace === null ? 'fatrace is not on PATH' : null].filter(Boolean).join(' and ');
    const fix =
      f.platform !== 'linux'
        ? undefined
        : [
            f.fanotify.fatrace === null ? 'install it (Debian/Ubuntu: `sudo apt-get install fatrace`)' : null,
            !privileged ? 'run winnow as root or grant the capability (`sudo setcap cap_sys_admin+ep "$(command -v fatrace)"` is not enough: the winnow process itself needs it; see packaging/README.md)' : null,
          ]
            .filter(Boolean)
            .join('; ') + '. Without it winnow relies on open-handle and timing evidence.';
    add({
      id: 'fanotify',
      status: mode === 'on' ? 'fail' : 'info',
      summary: `fanotify writer attribution unavailable: ${why}${mode === 'on' ? ' (autonomous.fanotify = "on" requires it)' : ''}`,
      ...(fix ? { fix: mode === 'on' ? `${fix} Or set autonomous.fanotify to "auto".` : fix } : {}),
    });
  }

  // Process tracing (rung 2) and lineage (rung 1's resolver for writers that already exited)
  if (f.tracing && f.platform === 'linux') {
    const t = f.tracing;
    const tmode = cfg.autonomous.trace;
    const tracingUsed = tmode === 'on' || (tmode === 'auto' && !(fanAvailable && mode !== 'off'));
    if (tmode === 'off') add({ id: 'trace', status: 'info', summary: 'process tracing is off (autonomous.trace = "off")' });
    else if (!tracingUsed) add({ id: 'trace', status: 'ok', summary: 'process tracing not needed: fanotify attributes every write (autonomous.trace = "auto")' });
    else if (t.strace === null) {
      add({
        id: 'trace',
        status: tmode === 'on' ? 'fail' : 'warn',
        summary: 'strace is not on PATH: agents cannot be traced, only declared (`winnow exec`, `winnow hook`) or judged on timing',
        fix: 'Install it (Debian/Ubuntu: `sudo apt-get install strace`).',
      });
    } else {
      const scope = t.ptraceScope;
      const attach = scope === null || scope === 0 || (scope < 3 && f.uid === 0);
      add({
        id: 'trace',
        status: attach ? 'ok' : 'info',
        summary: attach
          ? `process tracing available (${t.strace}; winnow attaches to running agents${scope === null ? '' : `, ptrace_scope ${scope}`})`
          : `process tracing only for agents started with \`winnow exec\`: Yama ptrace_scope is ${scope}, which forbids attaching to running agents`,
        ...(attach ? {} : { fix: 'Start agents with `winnow exec -- CMD`, or allow attaching: `sudo sysctl kernel.yama.ptrace_scope=0` (a machine-wide choice).' }),
      });
    }
    if (fanAvailable && mode !== 'off') {
      add(
        t.forkstat
          ? { id: 'lineage', status: 'ok', summary: `process lineage available (${t.forkstat}): writers that exit at once are still resolved` }
          : { id: 'lineage', status: 'warn', summary: 'forkstat is not on PATH: a writer that exits before winnow looks (an agent\'s `sh -c`) is unknown', fix: 'Install it (Debian/Ubuntu: `sudo apt-get install forkstat`).' },
      );
    }
  }
  const processes = f.processes ?? null;
  if (processes) {
    if (!processes.length) add({ id: 'rungs', status: 'ok', summary: 'the running daemon sees no autonomous process now' });
    for (const p of processes) {
      const cmd = p.command.length > 60 ? p.command.slice(0, 57) + '…' : p.command;
      add({
        id: 'rung',
        status: p.rung === 'heuristic' ? 'warn' : p.advice ? 'info' : 'ok',
        summary: `process ${p.pid} (${cmd}): ${RUNG_LABEL[p.rung]}`,
        ...(p.advice ? { fix: p.advice.charAt(0).toUpperCase() + p.advice.slice(1) + '.' } : {}),
      });
    }
  }

  // state dir: the privacy promise (dirs 0700, files 0600, owned by the user)
  if (ws) {
    if (f.state === null) {
      add({ id: 'state-permissions', status: 'ok', summary: `${ws.stateDir} not created yet (winnow creates it 0700)` });
    } else {
      const loose = f.state.filter((e) => (e.mode & 0o077) !== 0);
      const foreign = f.uid >= 0 ? f.state.filter((e) => e.uid !== f.uid) : [];
      if (loose.length) {
        const list = loose.slice(0, 5).map((e) => `${e.rel || '.'} (${octal(e.mode)})`).join(', ');
        add({
          id: 'state-permissions',
          status: 'fail',
          summary: `state files readable by others in ${ws.stateDir}: ${list}${loose.length > 5 ? ` (+${loose.length - 5} more)` : ''}`,
          fix: `Run: chmod -R go-rwx ${ws.stateDir}`,
        });
      } else {
        add({ id: 'state-permissions', status: 'ok', summary: `${ws.stateDir}: ${f.state.length} entries, private to their owner` });
      }
      if (foreign.length) {
        const list = foreign.slice(0, 5).map((e) => `${e.rel || '.'} (uid ${e.uid})`).join(', ');
        add({
          id: 'state-owner',
          status: 'fail',
          summary: `state entries owned by another user in ${ws.stateDir}: ${list}${foreign.length > 5 ? ` (+${foreign.length - 5} more)` : ''}`,
          fix: `Run winnow as the workspace's owner, or fix ownership: sudo chown -R ${f.uid} ${ws.stateDir}`,
        });
      }
    }
    const denied = f.writable.filter((w) => w.error);
    if (denied.length) {
      add({
        id: 'write-access',
        status: 'fail',
        summary: `cannot write ${denied.map((w) => `${w.path} (${w.error})`).join(', ')}`,
        fix: 'Run winnow as the user who owns the workspace, or give that user write access to the paths above.',
      });
    } else {
      add({ id: 'write-access', status: 'ok', summary: 'work tree, git dir and objects are writable' });
    }

    const min = cfg.health.minFreeBytes;
    if (f.freeBytes === null) {
      add({ id: 'disk', status: 'warn', summary: `cannot read free space for ${ws.gitDir}` });
    } else if (f.freeBytes < min) {
      add({
        id: 'disk',
        status: 'fail',
        summary: `${fmtBytes(f.freeBytes)} free, below health.minFreeBytes (${fmtBytes(min)}): commits wait until space is freed`,
        fix: `Free space on the disk holding ${ws.gitDir}, or lower health.minFreeBytes in the config.`,
      });
    } else if (f.freeBytes < 2 * min) {
      add({ id: 'disk', status: 'warn', summary: `${fmtBytes(f.freeBytes)} free, close to health.minFreeBytes (${fmtBytes(min)})`, fix: `Free space on the disk holding ${ws.gitDir}.` });
    } else {
      add({ id: 'disk', status: 'ok', summary: `${fmtBytes(f.freeBytes)} free (minimum ${fmtBytes(min)})` });
    }
  }

  if (f.lfs?.attributes) {
    if (!f.lfs.installed) {
      add({
        id: 'lfs',
        status: 'warn',
        summary: '.gitattributes tracks files with git-lfs (filter=lfs), but git-lfs is not installed: large files it tracks are held back, never committed whole',
        fix: 'Install git-lfs (Debian: apt install git-lfs), then run `git lfs install`.',
      });
    } else if (!f.lfs.filterConfigured) {
      add({ id: 'lfs', status: 'warn', summary: 'git-lfs is installed but its filter is not set up: LFS-tracked files would be committed whole', fix: 'Run `git lfs install`.' });
    } else {
      add({ id: 'lfs', status: 'ok', summary: 'git-lfs is installed and set up for the files .gitattributes tracks with it' });
    }
  }

  const procEvidence: boolean | 'own-processes' = f.platform === 'linux' ? (f.uid === 0 || f.fanotify.capSysAdmin ? true : 'own-processes') : f.platform === 'darwin';
  const evidence: DoctorReport['evidence'] = {
    fanotify: mode === 'off' ? 'off' : fanAvailable ? 'available' : 'unavailable',
    openHandle: procEvidence,
    temporal: f.platform === 'linux' ? procEvidence : false,
  };
  if (procEvidence === 'own-processes') {
    add({
      id: 'evidence',
      status: 'info',
      summary: 'open-handle and write-activity evidence cover your own processes only (other users\' /proc/PID/fd and io are not readable)',
    });
  }
  return { ok: !checks.some((c) => c.status === 'fail'), workspace: ws?.root ?? null, evidence, ...(processes ? { processes } : {}), checks };
}

// ---------------------------------------------------------------------------------------------
// Fact gathering (effectful)

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

/** Directories under root outside .git, stopping at `cap` (an upper bound is all the check needs). */
async function countDirs(root: string, cap = 1_000_000): Promise<number | null> {
  let n = 0;
  const stack = [root];
  try {
    while (stack.length && n < cap) {
      const dir = stack.pop()!;
      n++;
      const d = await opendir(dir).catch(() => null);
      if (!d) continue;
      for await (const e of d) {
        if (e.isDirectory() && !(dir === root && e.name === '.git')) stack.push(join(dir, e.name));
      }
    }
  } catch {
    return null;
  }
  return n;
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
      workspaceDirs: ws ? await countDirs(ws.root) : null,
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
    for (const p of [ws.root, ws.gitDir, join(ws.gitDir, 'objects')]) {
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

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', info: 'info', warn: 'WARN', fail: 'FAIL' };

export function formatReport(r: DoctorReport): string {
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]}  ${c.id}: ${c.summary}`);
    if (c.fix && c.status !== 'ok') lines.push(`      → ${c.fix}`);
  }
  lines.push(
    `evidence: fanotify ${r.evidence.fanotify}; open handles ${String(r.evidence.openHandle)}; write activity ${String(r.evidence.temporal)}`,
    r.ok ? 'winnow can run here.' : 'winnow doctor found problems: fix the FAIL lines above.',
  );
  return lines.join('\n') + '\n';
}

export const command: CommandSpec = {
  name: 'doctor',
  summary: 'Checks git, inotify limits, fanotify, state permissions, free disk and the config.',
  usage: 'doctor [DIR] [--config FILE] [--json]',
  options: {
    ...DIR_OPTION,
    config: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    dir: DIR_HELP,
    config: 'config file instead of DIR/.winnow.json',
    json: 'print the report as one JSON object on stdout',
  },
  details: 'Exit code 0 when every check passes (warnings included), 1 when one fails.',
  async run(args, io: CliIO) {
    const facts = await gatherFacts({
      dir: workspaceDir(command, args, args.positionals),
      config: args.values.config as string | undefined,
      cwd: io.cwd,
      env: io.env,
    });
    const report = evaluate(facts);
    if (args.values.json) io.stdout(JSON.stringify(report) + '\n');
    else io.stderr(formatReport(report));
    return report.ok ? 0 : 1;
  },
};
