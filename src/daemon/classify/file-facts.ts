/**
 * The file-system half of layer 1's built-in facts: whether a directory holds a `.git` (a nested
 * repository), and what kind of file a path is. core/classify/builtins.ts judges them.
 */
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { normalisePath } from '../../core/event.js';
import type { Clock, Fs } from '../../ports/index.js';
import { fileKindFact, type BuiltinFact, type FileKind } from '../../core/classify/builtins.js';
import type { PathStats } from './path-stats.js';

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

  /** Layer 1 extras: the file types winnow never follows or commits (core/classify/builtins.ts judges). */
  async unsafeKind(path: string, stats: PathStats): Promise<BuiltinFact | null> {
    return fileKindFact(path, await this.kindOf(path, stats));
  }

  /** What is at `path`: the facts `fileKindFact` needs, and only those (a symlink's target, a directory's `.git`). */
  private async kindOf(path: string, stats: PathStats): Promise<FileKind> {
    const { root, clock } = this.deps;
    const abs = join(root, path);
    const st = await stats.of(path);
    if (!st) return { kind: 'absent' };
    if (st.isSpecial) return { kind: 'special' };
    if (st.isSymlink) {
      const target = await realpath(abs).catch(() => null);
      // Dangling: committed as a link, never followed.
      return { kind: 'symlink', target, outside: target !== null && normalisePath(root, target) === null && target !== root };
    }
    if (st.isDirectory) return { kind: 'directory', holdsGit: await this.holdsGit(path, clock.now()) };
    return { kind: 'file' };
  }
}
