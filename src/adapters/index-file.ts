/**
 * The person's index file read in-process (core/commit/index-file.ts), through a window of
 * positional reads: a 100k-entry index is ~8 MB and is never held whole. git replaces the index by
 * renaming `index.lock` over it, so an open file is one whole version of it.
 */
import { closeSync, fchmodSync, fstatSync, openSync, readSync, writeSync, type BigIntStats } from 'node:fs';
import { link, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { scanIndex, type IndexScan } from '../core/commit/index-file.js';
import { readIndexForPatch, writePatchedIndex, type Hasher } from '../core/commit/index-patch.js';
import type { Entry, IndexEntry } from '../core/commit/plumbing.js';

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

const hasher: Hasher = (algorithm) => createHash(algorithm);

/** A patched index written beside the person's, not yet in place. */
export interface IndexPatch {
  /** Renames it over the index if nobody wrote the index since it was read; false: nothing changed. */
  commit(): Promise<boolean>;
  /** Not wanted after all: the file beside is removed. */
  discard(): Promise<void>;
}

/**
 * Prepares entries of the index `file` replaced in-process (core/commit/index-patch.ts), as `git
 * update-index --index-info` would, in `scratch` (same file system), through a window of reads:
 * the file is never held whole. `commit()` takes index.lock the way git takes it (created
 * exclusively) only to check that nobody wrote the index since it was read and to rename: the
 * person's git meets the lock for a rename, not for a rewrite. The old file keeps a link
 * (`scratch.prev`) until after the rename: freeing its blocks (~4 ms for 4 MB on ext4) happens
 * off the commit's path.
 *
 * `decide` gets the current entries of `paths` and returns the replacements (empty: nothing to
 * do), or null. Null when git must do it: the file is not one index-patch.ts handles, `decide`
 * said null, the file beside could not be written.
 */
export async function prepareIndexEntries(
  file: string,
  scratch: string,
  paths: readonly string[],
  decide: (real: Map<string, IndexEntry | 'conflict'>) => Map<string, Entry> | null,
): Promise<IndexPatch | null> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  let st: BigIntStats;
  let done = false;
  try {
    st = fstatSync(fd, { bigint: true });
    let buf = Buffer.alloc(0);
    const read = (position: number, length: number) => {
      if (buf.length < length) buf = Buffer.allocUnsafe(length);
      return buf.subarray(0, readSync(fd, buf, 0, length, position));
    };
    const r = readIndexForPatch(read, Number(st.size), new Set(paths), Number(st.mtimeNs / 1_000_000_000n), hasher);
    const changes = r && decide(r.entries);
    if (!r || !changes) return null;
    if (!changes.size) return { commit: async () => true, discard: async () => undefined };
    const mode = Number(st.mode & 0o777n);
    const out = openSync(scratch, 'w', mode);
    try {
      fchmodSync(out, mode); // the umask narrowed it; the index keeps its own mode (core.sharedRepository)
      done = writePatchedIndex(read, r, changes, hasher, (chunk) => {
        for (let at = 0; at < chunk.length; ) at += writeSync(out, chunk, at);
      });
    } finally {
      closeSync(out);
    }
  } catch {
    done = false;
  } finally {
    closeSync(fd);
  }
  const discard = () => unlink(scratch).catch(() => undefined);
  if (!done) {
    await discard();
    return null;
  }
  return { commit: () => swapIn(file, scratch, st).finally(discard), discard };
}

/** `scratch` renamed over `file` under index.lock, if `file` is still the version `was`. */
async function swapIn(file: string, scratch: string, was: BigIntStats): Promise<boolean> {
  const lockFile = `${file}.lock`;
  const prev = `${scratch}.prev`;
  let lock: FileHandle | null = null;
  let linked = false;
  try {
    lock = await open(lockFile, 'wx');
    const now = await stat(file, { bigint: true });
    // Someone's git wrote it since it was read: git does the update from the new version.
    if (now.ino !== was.ino || now.size !== was.size || now.mtimeNs !== was.mtimeNs || now.ctimeNs !== was.ctimeNs) return false;
    await unlink(prev).catch(() => undefined);
    linked = await link(file, prev).then(() => true, () => false);
    await rename(scratch, file);
    return true;
  } catch {
    return false; // a held lock, another file system: git does it, and says what failed
  } finally {
    if (lock !== null) {
      await lock.close();
      await unlink(lockFile);
    }
    if (linked) void unlink(prev).catch(() => undefined);
  }
}

/** `prepareIndexEntries` and its `commit()` at once; false: git must do it. */
export async function replaceIndexEntries(...args: Parameters<typeof prepareIndexEntries>): Promise<boolean> {
  const patch = await prepareIndexEntries(...args);
  return patch ? patch.commit() : false;
}
