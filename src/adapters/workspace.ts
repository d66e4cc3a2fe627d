/**
 * `resolveWorkspace(dir, cwd)`: the work tree holding a directory, from one `git rev-parse` (run
 * through the git adapter) and the file system. What counts as a workspace, and the messages when
 * it is not, are in core/workspace.ts.
 */
import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { REV_PARSE_ARGS, WorkspaceError, parseRevParse, revParseFailure, type Workspace } from '../core/workspace.js';
import { GitError, createGitRunner } from './git-spawn.js';

export { WorkspaceError, type Workspace };

/**
 * Resolves the workspace for a directory (default: cwd). A directory outside a work tree, or a
 * bare repository, is a WorkspaceError with a clear message (exit 2).
 */
export async function resolveWorkspace(dir: string | undefined, cwd: string): Promise<Workspace> {
  const target = resolve(cwd, dir ?? '.');
  const st = await stat(target).catch(() => null);
  if (!st) throw new WorkspaceError(`${target}: no such directory. Give the path of a git work tree.`);
  if (!st.isDirectory()) throw new WorkspaceError(`${target}: not a directory. Give the path of a git work tree.`);
  let out: string;
  try {
    const git = createGitRunner(target, { timeoutMs: 10_000 });
    out = (await git([...REV_PARSE_ARGS], { readOnly: true })).stdout.toString('utf8');
  } catch (e) {
    if (e instanceof GitError) throw revParseFailure(target, e.stderr, e.notFound);
    throw e;
  }
  const found = parseRevParse(target, out);
  const root = await realpath(found.toplevel);
  const gitDir = await realpath(found.gitDir ?? join(root, '.git'));
  return { root, gitDir, stateDir: join(gitDir, 'winnow') };
}
