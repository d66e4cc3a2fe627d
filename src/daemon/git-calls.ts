/**
 * Small helpers over the injected `GitRunner` (the git adapter's raw calls), shared by the sync
 * and history stages. Nothing here spawns git: the runner does.
 */
import type { GitCall, GitRunner, ObjectFormat } from '../ports/index.js';
import { OBJECT_FORMAT_ARGS, parseObjectFormat } from '../core/git/object-format.js';

/** stdout as trimmed text. */
export async function gitText(git: GitRunner, args: string[], call?: GitCall): Promise<string> {
  return (await git(args, call)).stdout.toString('utf8').trim();
}

const formats = new WeakMap<GitRunner, Promise<ObjectFormat>>();

/** The repository's object format (sha1 or sha256), asked once per runner. */
export function objectFormat(git: GitRunner): Promise<ObjectFormat> {
  let f = formats.get(git);
  if (!f) {
    f = git([...OBJECT_FORMAT_ARGS], { readOnly: true }).then((r) => parseObjectFormat(r.stdout.toString('utf8')));
    // A failed answer is asked again next time, never remembered.
    f.catch(() => formats.delete(git));
    formats.set(git, f);
  }
  return f;
}

/** A failed git call as the adapter's GitError describes it; duck-typed so daemon never imports adapters. */
export interface GitFailure {
  code: number | null;
  stderr: string;
  timedOut: boolean;
  stdout: string;
}

/** The GitError fields of `e`, or null when `e` is not a failed git call. */
export function asGitFailure(e: unknown): GitFailure | null {
  if (!e || typeof e !== 'object' || !('stderr' in e) || !('timedOut' in e)) return null;
  const g = e as { code?: number | null; stderr: unknown; timedOut: unknown; stdout?: unknown };
  return { code: g.code ?? null, stderr: String(g.stderr), timedOut: Boolean(g.timedOut), stdout: g.stdout ? String(g.stdout) : '' };
}
