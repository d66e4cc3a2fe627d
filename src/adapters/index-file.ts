/**
 * The person's index file read in-process (core/commit/index-file.ts), through a window of
 * positional reads: a 100k-entry index is ~8 MB and is never held whole. git replaces the index by
 * renaming `index.lock` over it, so an open file is one whole version of it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { scanIndex, type IndexScan } from '../core/commit/index-file.js';

/** `scanIndex` of the index at `file`; null when it is absent, unreadable or not understood here. */
export function readIndexScan(file: string, want: ReadonlySet<string>): IndexScan | null {
  return new IndexReader(file).scan(want);
}

/**
 * Reads of one index file that remember the last answer: a commit asks the person's index three
 * times (a merge's conflicts, the batch's entries before, and again after the commit), and it has
 * not changed in between unless someone else's git wrote it. At 100k files each read is ~8 MB.
 * An answer is reused only for the same file version (inode, size, mtime and ctime of the open
 * file) and for paths it looked for.
 */
export class IndexReader {
  private last: { key: string; want: ReadonlySet<string>; scan: IndexScan } | null = null;

  constructor(readonly file: string) {}

  scan(want: ReadonlySet<string>): IndexScan | null {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return null;
    }
    try {
      const st = fstatSync(fd, { bigint: true });
      const key = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
      const last = this.last;
      if (last?.key === key && [...want].every((p) => last.want.has(p))) return subset(last.scan, want);
      const size = Number(st.size);
      let buf = Buffer.alloc(0);
      const scan = scanIndex(
        (position, length) => {
          if (buf.length < length) buf = Buffer.allocUnsafe(length);
          const n = readSync(fd, buf, 0, length, position);
          return buf.subarray(0, n);
        },
        size,
        want,
      );
      this.last = scan ? { key, want: new Set(want), scan } : null;
      return scan;
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
  }
}

function subset(scan: IndexScan, want: ReadonlySet<string>): IndexScan {
  const entries: IndexScan['entries'] = new Map();
  for (const p of want) {
    const e = scan.entries.get(p);
    if (e !== undefined) entries.set(p, typeof e === 'string' ? e : { ...e });
  }
  return { entries, unmerged: scan.unmerged };
}
