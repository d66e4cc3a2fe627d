import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const run = promisify(execFile);

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

/**
 * Resolves the workspace for a directory (default: cwd). A directory outside a work tree, or a
 * bare repository, is a WorkspaceError with a clear message.
 */
export async function resolveWorkspace(dir: string | undefined, cwd: string): Promise<Workspace> {
  const target = resolve(cwd, dir ?? '.');
  const st = await stat(target).catch(() => null);
  if (!st) throw new WorkspaceError(`${target}: no such directory. Give the path of a git work tree.`);
  if (!st.isDirectory()) throw new WorkspaceError(`${target}: not a directory. Give the path of a git work tree.`);
  const env = { ...process.env, GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' };
  let out: string;
  try {
    ({ stdout: out } = await run('git', ['rev-parse', '--is-bare-repository', '--is-inside-work-tree', '--show-toplevel', '--absolute-git-dir'], {
      cwd: target,
      env,
      timeout: 10_000,
    }));
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim();
    if ((e as { code?: string }).code === 'ENOENT') throw new WorkspaceError('git was not found on PATH. Install git 2.25 or newer.');
    if (/not a git repository/i.test(msg)) {
      throw new WorkspaceError(`${target} is not inside a git work tree. Run \`git init\` there first, or give the path of an existing work tree.`);
    }
    throw new WorkspaceError(`${target}: git rev-parse failed: ${msg.split('\n')[0]}`);
  }
  const lines = out.split('\n');
  if (lines[0] === 'true') throw new WorkspaceError(`${target} is a bare repository; winnow needs a work tree.`);
  if (lines[1] !== 'true' || !lines[2]) {
    throw new WorkspaceError(`${target} is inside a git directory, not a work tree. Give the path of the work tree.`);
  }
  const root = await realpath(lines[2]);
  const gitDir = await realpath(lines[3] ?? join(root, '.git'));
  return { root, gitDir, stateDir: join(gitDir, 'winnow') };
}
