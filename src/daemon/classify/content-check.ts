/** Layer 3: the file's content now against HEAD's (core/classify/content.ts decides). */
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { compareByBlobId, compareContent, comparesByHash, isJsonPath, isLogOrTemp, parseJson, type ContentOptions, type JsonParse } from '../../core/classify/content.js';
import type { Fs, Git } from '../../ports/index.js';
import type { PathStats } from './path-stats.js';

const EMPTY = Buffer.alloc(0);

export class ContentCheck {
  /** HEAD's parsed JSON by blob id: a file rewritten over and over is parsed at HEAD once. */
  private readonly headJson = new LRUCache<string, JsonParse>({ max: 256 });

  constructor(private readonly deps: { root: string; fs: Fs; git: Pick<Git, 'headBlob' | 'headBlobInfo' | 'hashFile'>; options: ContentOptions }) {}

  private async currentContent(path: string, stats: PathStats): Promise<Buffer | null> {
    const abs = join(this.deps.root, path);
    const st = await stats.of(path);
    if (!st) return null;
    // git stores a symlink as its target text: compare that, never the followed content.
    if (st.isSymlink) return Buffer.from(await readlink(abs));
    try {
      return await this.deps.fs.readFile(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /**
   * A large regular file (or one whose HEAD blob is large) is compared by blob id: git hashes it
   * in its own process and the daemon never holds it, so a 100 MB file neither fills the daemon's
   * memory nor keeps the small changes of the same batch waiting (issue 11, case 13). null: not
   * large, or the git adapter cannot (a test double); the content path decides.
   */
  private async byHash(path: string, stats: PathStats): Promise<{ decision: 'ALLOW' | 'BLOCK'; reason: string } | null> {
    const { git, options } = this.deps;
    if (!git.headBlobInfo || !git.hashFile || isLogOrTemp(path)) return null;
    const st = await stats.of(path);
    if (st && !st.isFile) return null;
    const info = await git.headBlobInfo(path);
    // A deletion needs to know only whether HEAD has the file, never its bytes.
    if (!st) return compareContent(path, info ? EMPTY : null, null, options, 0);
    if (!comparesByHash(path, st.size, info?.size ?? null, options)) return null;
    return compareByBlobId(path, info?.id ?? null, await git.hashFile(path));
  }

  /** `stats`: the lstats of this classify call (layer 1 took them; a file changed since has an event of its own). */
  async judge(path: string, at: number, stats: PathStats): Promise<{ decision: 'ALLOW' | 'BLOCK'; reason: string }> {
    const opts = this.deps.options;
    const large = await this.byHash(path, stats);
    if (large) return large;
    const current = await this.currentContent(path, stats);
    const kind = isLogOrTemp(path);
    // A new file (nothing at HEAD) needs no HEAD read beyond the lookup itself.
    const head = kind ? null : await this.deps.git.headBlob(path);
    let hj: JsonParse | undefined;
    if (head && current && isJsonPath(path) && head.content.length <= opts.maxBytes) {
      hj = this.headJson.get(head.id);
      if (!hj) {
        hj = parseJson(head.content);
        this.headJson.set(head.id, hj);
      }
    }
    return compareContent(path, head ? head.content : null, current, opts, at, hj);
  }
}
