/**
 * The person's index file read in-process (core/commit/index-file.ts), through a window of
 * positional reads: a 100k-entry index is ~8 MB and is never held whole. git replaces the index by
 * renaming `index.lock` over it, so an open file is one whole version of it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { scanIndex, type IndexScan } from '../core/commit/index-file.js';

/** `scanIndex` of the index at `file`; null when it is absent, unreadable or not understood here. */
export function readIndexScan(file: string, want: ReadonlySet<string>): IndexScan | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    let buf = Buffer.alloc(0);
    return scanIndex(
      (position, length) => {
        if (buf.length < length) buf = Buffer.allocUnsafe(length);
        const n = readSync(fd, buf, 0, length, position);
        return buf.subarray(0, n);
      },
      size,
      want,
    );
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
