/**
 * One lstat per path per classify call. Layer 1's file kinds, layer 2's write times (the mtime)
 * and sizes, and temporal correlation's explaining paths all ask about the same paths in the same
 * few milliseconds; each lstat through the thread pool costs ~10–30 µs of the event loop's time on
 * its own (measured with `bench/micro/l2`), more than the /proc reads layer 2 makes.
 */
import { join } from 'node:path';
import type { FileStat, Fs } from '../../ports/index.js';

export class PathStats {
  private readonly memo = new Map<string, Promise<FileStat | null>>();

  constructor(
    private readonly root: string,
    private readonly fs: Fs,
  ) {}

  /** lstat of the workspace path, taken once for this call; null when absent or unreadable. */
  of(path: string): Promise<FileStat | null> {
    let st = this.memo.get(path);
    if (!st) this.memo.set(path, (st = this.fs.stat(join(this.root, path)).catch(() => null)));
    return st;
  }
}
