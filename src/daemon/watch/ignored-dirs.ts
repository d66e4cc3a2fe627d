/**
 * Folders git ignores as a whole (node_modules/, build/, .venv/ …) are not watched: everything in
 * them is blocked anyway (SPEC, layer 1), and watching them costs an inotify watch per folder, the
 * watcher's memory per file and, on `npm install`, a storm of events that are all blocked. git
 * cannot re-include a file under an excluded folder, so nothing winnow could commit is missed.
 *
 * Listed by `git ls-files -o -i --exclude-standard --directory` (untracked, ignored, collapsed to
 * the folder), then confirmed with `git check-ignore`: the listing also collapses a folder that
 * only *contains* ignored things (`sub/` holding `sub/node_modules/`), and a new file there is not
 * ignored. A folder holding a tracked file is never collapsed, so it stays watched.
 */
import type { GitRunner } from '../../ports/index.js';

/** More ignore paths make @parcel/watcher's per-path check slower (a linear scan); the per-folder watcher's is a Set. */
export const IGNORED_DIRS_MAX = 500;

/**
 * The folders to leave unwatched, from the listing's entries and the set check-ignore confirmed:
 * folders only (a trailing `/`), shallowest first, none inside another, at most `max`.
 *
 * @example pickIgnoredDirs(['node_modules/', 'a.log', 'sub/', 'sub/node_modules/'], new Set(['node_modules/', 'sub/node_modules/']))
 * // → ['node_modules', 'sub/node_modules']
 */
export function pickIgnoredDirs(listed: readonly string[], confirmed: ReadonlySet<string>, max = IGNORED_DIRS_MAX): string[] {
  const dirs = listed
    .filter((p) => p.endsWith('/') && confirmed.has(p))
    .map((p) => p.slice(0, -1))
    .sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : a > b ? 1 : 0));
  const out: string[] = [];
  for (const d of dirs) {
    if (out.length >= max) break;
    if (out.some((o) => d.startsWith(o + '/'))) continue;
    out.push(d);
  }
  return out.sort();
}

/** The workspace's wholly ignored folders, workspace-relative; [] when git cannot tell. */
export async function listIgnoredDirs(git: GitRunner): Promise<string[]> {
  const split = (b: Buffer) => b.toString('utf8').split('\0').filter(Boolean);
  const listed = split((await git(['ls-files', '-z', '-o', '-i', '--exclude-standard', '--directory'], { readOnly: true })).stdout);
  const dirs = listed.filter((p) => p.endsWith('/'));
  if (!dirs.length) return [];
  // --no-index: these folders hold no tracked file (else they would not be collapsed).
  // check-ignore refuses GIT_LITERAL_PATHSPECS (the runner's default).
  const r = await git(['check-ignore', '--no-index', '-z', '--stdin'], { readOnly: true, input: dirs.join('\0') + '\0', okCodes: [1], env: { GIT_LITERAL_PATHSPECS: '0' } });
  return pickIgnoredDirs(dirs, new Set(split(r.stdout)));
}
