/**
 * Layer 1's built-in facts that need the file system: inside a nested repository, and the file
 * types winnow never follows or commits (special files, symlinks out of the workspace,
 * directories). The rule names are listed in docs/internals.md.
 */
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { normalisePath } from '../../core/event.js';
import type { Clock, Fs } from '../../ports/index.js';

/**
 * How long "does DIR hold a .git?" is remembered. `.git` is never watched, so nothing tells the
 * classifier when one appears or goes: a short TTL keeps an event storm to one lstat per
 * directory, and a repository made (or removed) inside the workspace is seen within this time.
 */
const NESTED_TTL_MS = 2_000;
/** Directories remembered (bounded: a storm over a huge tree must not grow it). */
const NESTED_MAX = 4_096;

export class FileFacts {
  private readonly gitEntry = new LRUCache<string, { at: number; has: boolean }>({ max: NESTED_MAX });

  constructor(private readonly deps: { root: string; fs: Fs; clock: Clock }) {}

  /** True when `dir` (workspace-relative) holds a `.git` file or directory; cached for NESTED_TTL_MS. */
  private async holdsGit(dir: string, now: number): Promise<boolean> {
    const hit = this.gitEntry.get(dir);
    if (hit && now - hit.at < NESTED_TTL_MS) return hit.has;
    const has = (await this.deps.fs.stat(join(this.deps.root, dir, '.git')).catch(() => null)) !== null;
    this.gitEntry.set(dir, { at: now, has });
    return has;
  }

  /**
   * The outermost directory strictly between the root and `path` that is a git repository of its
   * own (a `.git` file or directory: a nested clone, `git init`, a submodule), or null. Its files
   * belong to that repository: the parent's `git add` skips them and `git commit -- PATH` fails.
   */
  async nestedRepoOf(path: string): Promise<string | null> {
    const now = this.deps.clock.now();
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
      const dir = path.slice(0, i);
      if (await this.holdsGit(dir, now)) return dir;
    }
    return null;
  }

  /** Layer 1 extras: the file types winnow never follows or commits. */
  async unsafeKind(path: string): Promise<{ rule: string; reason: string } | null> {
    const { root, fs, clock } = this.deps;
    const abs = join(root, path);
    const st = await fs.stat(abs).catch(() => null);
    if (!st) return null;
    if (st.isSpecial) return { rule: 'builtin:special-file', reason: 'FIFO, socket or device: never read or committed' };
    if (st.isSymlink) {
      const target = await realpath(abs).catch(() => null);
      if (target === null) return null; // dangling: committed as a link, never followed
      if (normalisePath(root, target) === null && target !== root) {
        return { rule: 'builtin:symlink-outside', reason: `symlink pointing outside the workspace (${target}): never followed` };
      }
      return null;
    }
    if (st.isDirectory) {
      if (await this.holdsGit(path, clock.now())) {
        return { rule: 'builtin:nested-repo', reason: `${path}/ is a nested git repository (it has its own .git): not committed into this one` };
      }
      return { rule: 'builtin:directory', reason: 'a directory: its files are classified one by one' };
    }
    return null;
  }
}
