/**
 * The person's own git work comes first (SPEC "Coordination"; issue 11 cases 1–6): which paths of a
 * batch are theirs to commit by hand, which index entries are not deletions at all, and whether a
 * git command of theirs is running in the repository right now. Pure: the committer gathers the
 * facts (index entries, HEAD entries, the process table) and acts on the answers.
 */
import type { Entry, IndexEntry } from './plumbing.js';

export interface PersonsPaths {
  /** Staged with content different from HEAD (or removed from the index by hand): the person's commit. */
  staged: { path: string; reason: string }[];
  /**
   * Skip-worktree (sparse checkout) or assume-unchanged entries: absent or changed on disk by
   * design, never the person's deletion or edit. Nothing to commit.
   */
  hidden: string[];
}

/**
 * Splits the batch's paths the person owns in their index from those winnow may commit.
 *
 * @param head HEAD's entries for the paths (absent: not in HEAD)
 * @param index the person's index entries for the paths (absent: not in the index)
 * @example personsPaths(['a.md'], new Map(), new Map([['a.md', { mode: '100644', oid: 'b…' }]]))
 *   // { staged: [{ path: 'a.md', reason: 'staged by hand (git add): …' }], hidden: [] }
 */
export function personsPaths(
  paths: readonly string[],
  head: ReadonlyMap<string, Entry>,
  index: ReadonlyMap<string, IndexEntry | 'conflict'>,
): PersonsPaths {
  const staged: PersonsPaths['staged'] = [];
  const hidden: string[] = [];
  for (const p of paths) {
    const h = head.get(p);
    const r = index.get(p);
    if (r === 'conflict') {
      staged.push({ path: p, reason: 'in conflict in the index: the person is resolving it; left to them' });
      continue;
    }
    if (r && (r.skipWorktree || r.assumeUnchanged)) {
      hidden.push(p);
      continue;
    }
    // `git add -N` announces a file without staging content: winnow may commit it.
    const real = r && !r.intentToAdd ? r : undefined;
    if (!real && !h) continue;
    if (real && h && real.mode === h.mode && real.oid === h.oid) continue;
    if (!real && r?.intentToAdd) continue;
    staged.push({
      path: p,
      reason: real
        ? 'staged by hand (git add) with content different from HEAD: left for your own commit (git commit, or git restore --staged to hand it back)'
        : 'removed from the index by hand (git rm --cached): left for your own commit',
    });
  }
  return { staged, hidden };
}

/** One git process as the process table and /proc show it. */
export interface GitProcess {
  pid: number;
  ppid: number;
  /** argv, argv[0] first. */
  argv: string[];
  /** Absolute working directory, or null when it cannot be read. */
  cwd: string | null;
  /** `GIT_DIR` from its environment, or null (unset or unreadable). */
  gitDirEnv: string | null;
}

/**
 * git commands that never move HEAD or a branch and can stay open for long (a pager, a daemon, an
 * IDE's batch reader): waiting for them would hold every commit for nothing.
 */
const READ_ONLY = new Set([
  'log', 'show', 'diff', 'status', 'blame', 'annotate', 'grep', 'help', 'shortlog', 'whatchanged',
  'ls-files', 'ls-tree', 'ls-remote', 'cat-file', 'rev-parse', 'rev-list', 'config', 'describe',
  'for-each-ref', 'check-ignore', 'check-attr', 'show-ref', 'name-rev', 'var', 'version',
  'fsmonitor--daemon', 'credential-cache--daemon', 'daemon', 'credential', 'difftool', 'instaweb',
  'fetch', 'push', 'fetch-pack', 'send-pack', 'upload-pack', 'receive-pack', 'hash-object', 'bundle',
  'count-objects', 'fsck', 'verify-pack', 'archive', 'format-patch', 'range-diff', 'diff-tree',
  'diff-index', 'diff-files', 'merge-base', 'check-ref-format', 'web--browse', 'remote-http',
  'remote-https', 'http-fetch', 'index-pack', 'pack-objects', 'unpack-objects', 'gc', 'maintenance',
  // What `git gc --auto` runs, detached, after a commit that left many loose objects: on a 100k-file
  // repository its repack takes minutes, and HEAD never moves under it.
  'repack', 'prune', 'prune-packed', 'pack-refs', 'commit-graph', 'multi-pack-index', 'reflog',
]);

/** Options of `git` itself that take a separate value (`git -C dir commit`). */
const GIT_OPTS_WITH_VALUE = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--super-prefix', '--exec-path', '--config-env']);

/** The subcommand of a `git …` argv (`commit` for `git -C x -c a=b commit -m m`), or null. */
export function gitSubcommand(argv: readonly string[]): string | null {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (GIT_OPTS_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a;
  }
  return null;
}

/** `--git-dir=X` or `--git-dir X` from a git argv, or null. */
function gitDirArg(argv: readonly string[]): string | null {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--git-dir') return argv[i + 1] ?? null;
    if (a.startsWith('--git-dir=')) return a.slice('--git-dir='.length);
    if (!a.startsWith('-')) return null;
  }
  return null;
}

const inside = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/**
 * The first git command of someone other than winnow that may move HEAD in this repository (a
 * `git commit` whose editor or pre-commit hook is running holds no index.lock, and dies with
 * "cannot lock ref 'HEAD'" if HEAD moves under it), or null.
 *
 * @param selfPid this daemon: its git children (and their children) are its own
 * @param root the work tree; @param gitDir its git directory (absolute)
 */
export function personGitCommand(
  procs: readonly GitProcess[],
  selfPid: number,
  root: string,
  gitDir: string,
  parents: ReadonlyMap<number, number> = new Map(),
): { pid: number; command: string } | null {
  const parentOf = (pid: number) => parents.get(pid) ?? procs.find((p) => p.pid === pid)?.ppid;
  const ours = (p: GitProcess) => {
    let cur: number | undefined = p.ppid;
    for (let depth = 0; cur !== undefined && cur > 1 && depth < 64; depth++) {
      if (cur === selfPid) return true;
      cur = parentOf(cur);
    }
    return false;
  };
  for (const p of procs) {
    if (p.pid === selfPid) continue;
    const sub = gitSubcommand(p.argv);
    if (sub === null || READ_ONLY.has(sub)) continue;
    const dirArg = gitDirArg(p.argv);
    const dirs = [p.gitDirEnv, dirArg && p.cwd ? (dirArg.startsWith('/') ? dirArg : `${p.cwd}/${dirArg}`) : dirArg].filter(
      (d): d is string => Boolean(d),
    );
    const here = dirs.length ? dirs.some((d) => inside(normal(d), gitDir)) : p.cwd !== null && inside(p.cwd, root);
    if (!here || ours(p)) continue;
    return { pid: p.pid, command: p.argv.slice(0, 6).join(' ').slice(0, 120) };
  }
  return null;
}

/** `a/./b/../c` → `a/c`, without touching the file system. */
function normal(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '.' || part === '') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return (p.startsWith('/') ? '/' : '') + out.join('/');
}
