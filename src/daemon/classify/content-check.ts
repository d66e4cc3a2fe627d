/** Layer 3: the file's content now against HEAD's (core/classify/content.ts decides). */
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { compareContent, isJsonPath, isLogOrTemp, parseJson, type ContentOptions, type JsonParse } from '../../core/classify/content.js';
import type { Fs, Git } from '../../ports/index.js';

export class ContentCheck {
  /** HEAD's parsed JSON by blob id: a file rewritten over and over is parsed at HEAD once. */
  private readonly headJson = new LRUCache<string, JsonParse>({ max: 256 });

  constructor(private readonly deps: { root: string; fs: Fs; git: Pick<Git, 'headBlob'>; options: ContentOptions }) {}

  private async currentContent(path: string): Promise<Buffer | null> {
    const abs = join(this.deps.root, path);
    const st = await this.deps.fs.stat(abs);
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

  async judge(path: string, at: number): Promise<{ decision: 'ALLOW' | 'BLOCK'; reason: string }> {
    const opts = this.deps.options;
    const current = await this.currentContent(path);
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
