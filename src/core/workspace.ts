/**
 * The workspace winnow runs on, and the sentences that say why a directory is not one. The git
 * call and the file system are the adapter's (adapters/workspace.ts); the judgement is here.
 */

/** The directory given is not a usable work tree: exit 2 with the reason. */
export class WorkspaceError extends Error {
  override name = 'WorkspaceError';
}

export interface Workspace {
  /** `git rev-parse --show-toplevel`, real path. */
  root: string;
  /** Absolute git dir (`.git`, or the worktree's git dir). */
  gitDir: string;
  /** `<gitDir>/winnow`: locks, pause signal, state, log, snapshots. */
  stateDir: string;
}

/** What `target` must be asked: bare?, inside a work tree?, its top level, its git dir. */
export const REV_PARSE_ARGS: readonly string[] = ['rev-parse', '--is-bare-repository', '--is-inside-work-tree', '--show-toplevel', '--absolute-git-dir'];

/** `REV_PARSE_ARGS`' answer → the top level and git dir (not yet real paths); a WorkspaceError when `target` is no work tree. */
export function parseRevParse(target: string, stdout: string): { toplevel: string; gitDir: string | null } {
  const lines = stdout.split('\n');
  if (lines[0] === 'true') throw new WorkspaceError(`${target} is a bare repository; winnow needs a work tree.`);
  if (lines[1] !== 'true' || !lines[2]) {
    throw new WorkspaceError(`${target} is inside a git directory, not a work tree. Give the path of the work tree.`);
  }
  return { toplevel: lines[2], gitDir: lines[3] || null };
}

/** The WorkspaceError for a failed `rev-parse` in `target` (git's stderr), or git missing. */
export function revParseFailure(target: string, stderr: string, gitMissing: boolean): WorkspaceError {
  if (gitMissing) return new WorkspaceError('git was not found on PATH. Install git 2.25 or newer.');
  const msg = stderr.trim();
  if (/not a git repository/i.test(msg)) {
    return new WorkspaceError(`${target} is not inside a git work tree. Run \`git init\` there first, or give the path of an existing work tree.`);
  }
  return new WorkspaceError(`${target}: git rev-parse failed: ${msg.split('\n')[0]}`);
}
