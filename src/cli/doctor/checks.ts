/**
 * `winnow doctor`'s verdicts (pure): facts (facts.ts) → checks, one function per subject, so
 * each verdict is a row in a unit-test table (test/unit/doctor.test.ts).
 */
import { DEFAULTS, type Config } from '../../core/config/defaults.js';
import { RUNG_LABEL, type ProcessRung } from '../../core/classify/ladder.js';
import type { DoctorFacts } from './facts.js';

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

type Add = (c: Check) => void;
type Ws = { root: string; gitDir: string; stateDir: string };
type Version = [number, number, number];

/** Pure: facts → verdicts. Exit code 1 when any check fails. */
export function evaluate(f: DoctorFacts): DoctorReport {
  const checks: Check[] = [];
  const add: Add = (c) => checks.push(c);
  const gv = checkTools(f, add);
  const { ws, cfg } = checkWorkspace(f, gv, add);
  if (f.inotify) checkInotify(f.inotify, cfg, add);
  const { mode, fanAvailable } = checkFanotify(f, cfg, add);
  checkTracing(f, cfg, mode, fanAvailable, add);
  const processes = checkRungs(f, add);
  if (ws) checkStateDir(f, ws, cfg, add);
  checkLfs(f, add);
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


/** Node and git. */
function checkTools(f: DoctorFacts, add: Add): Version | null {
  const nodeMajor = Number(f.nodeVersion.replace(/^v/, '').split('.')[0]);
  add(
    nodeMajor >= 20
      ? { id: 'node', status: 'ok', summary: `Node ${f.nodeVersion}` }
      : { id: 'node', status: 'fail', summary: `Node ${f.nodeVersion} is too old`, fix: 'Install Node 20 or newer.' },
  );

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

  return gv;
}

/** The workspace, its config, git's sync support and the committer identity. */
function checkWorkspace(f: DoctorFacts, gv: Version | null, add: Add): { ws: Ws | null; cfg: Config } {
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

  return { ws, cfg };
}

/** inotify (Linux): one watch per directory, one instance per subscription. */
function checkInotify(i: NonNullable<DoctorFacts['inotify']>, cfg: Config, add: Add): void {
  const sysctlW = `sudo sysctl fs.inotify.max_user_watches=${SUGGESTED_WATCHES} (persist it in /etc/sysctl.d/90-winnow.conf)`;
  const sysctlI = `sudo sysctl fs.inotify.max_user_instances=${SUGGESTED_INSTANCES} (persist it in /etc/sysctl.d/90-winnow.conf)`;
  if (i.maxUserWatches === null) {
    add({ id: 'inotify-watches', status: 'warn', summary: 'cannot read /proc/sys/fs/inotify/max_user_watches', fix: 'Check it with `sysctl fs.inotify.max_user_watches`.' });
  } else {
    const need = (i.workspaceDirs ?? 0) + (i.usedWatches ?? 0);
    const what = `fs.inotify.max_user_watches = ${i.maxUserWatches}${i.workspaceDirs !== null ? `; the workspace has ${i.workspaceDirs} watched director${i.workspaceDirs === 1 ? "y" : "ies"} (not counting folders git ignores)` : ''}${i.usedWatches !== null ? `; your processes hold ${i.usedWatches} watches` : ''}`;
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

/** fanotify through fatrace (layer 2's exact evidence). */
function checkFanotify(f: DoctorFacts, cfg: Config, add: Add): { mode: Config['autonomous']['fanotify']; fanAvailable: boolean } {
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
  return { mode, fanAvailable };
}

/** Process tracing (rung 2) and lineage (rung 1's resolver for writers that already exited). */
function checkTracing(f: DoctorFacts, cfg: Config, mode: Config['autonomous']['fanotify'], fanAvailable: boolean, add: Add): void {
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
}

/** The running daemon's autonomous processes and their rungs. */
function checkRungs(f: DoctorFacts, add: Add): ProcessRung[] | null {
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

  return processes;
}

/** The state dir's privacy promise (dirs 0700, files 0600, owned by the user), write access and free disk. */
function checkStateDir(f: DoctorFacts, ws: Ws, cfg: Config, add: Add): void {
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

/** git-lfs, when .gitattributes asks for it. */
function checkLfs(f: DoctorFacts, add: Add): void {
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
}
