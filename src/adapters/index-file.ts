/**
 * The person's index file read in-process (core/commit/index-file.ts), through a window of
 * positional reads: a 100k-entry index is ~8 MB and is never held whole. git replaces the index by
 * renaming `index.lock` over it, so an open file is one whole version of it.
 */
import { closeSync, fchmodSync, fstatSync, linkSync, openSync, readSync, renameSync, rmSync, statSync, writeSync, type BigIntStats } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { scanIndex, type IndexScan, type ReadAt } from '../core/commit/index-file.js';
import { patchable, readIndexForPatch, writePatchedIndex, type Hasher } from '../core/commit/index-patch.js';
import type { Entry, IndexEntry } from '../core/commit/plumbing.js';

/**
 * Reads of one index file that remember the last answer: a commit asks the person's index three
 * times (a merge's conflicts, the batch's entries before, and again after the commit), and it has
 * not changed in between unless someone else's git wrote it. At 100k files each read is ~8 MB.
 * An answer is reused only for the same file version (inode, size, mtime and ctime of the open
 * file) and for paths it looked for. The same answer tells a patch of the index after the commit
 * where the entries are (`prepareIndexEntries`), and `verify()`, run while a batch settles, spares
 * it the check of the file's trailing hash: at 50k files the two were ~5 ms of every commit.
 */
export class IndexReader {
  private last: { key: string; want: ReadonlySet<string>; scan: IndexScan } | null = null;
  /** The version whose trailing hash matched its content. */
  private verified: string | null = null;

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
      const key = versionOf(st);
      const known = this.knownAt(key, want);
      if (known) return known.scan;
      const scan = scanIndex(reader(fd), Number(st.size), want, Number(st.mtimeNs / 1_000_000_000n));
      this.last = scan ? { key, want: new Set(want), scan } : null;
      return scan;
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
  }

  /** The last scan's answer for `want`, if it was of the version `st` is (fstat of the open file) and looked for all of `want`. */
  known(st: BigIntStats, want: ReadonlySet<string>): { scan: IndexScan; verified: boolean } | null {
    return this.knownAt(versionOf(st), want);
  }

  private knownAt(key: string, want: ReadonlySet<string>): { scan: IndexScan; verified: boolean } | null {
    const last = this.last;
    if (last?.key !== key || ![...want].every((p) => last.want.has(p))) return null;
    return { scan: subset(last.scan, want), verified: this.verified === key };
  }

  /** Checks the last scanned version's trailing hash, once per version. */
  verify(): void {
    const last = this.last;
    const hashLen = last?.scan.layout?.hashLen;
    if (!last || !hashLen || this.verified === last.key) return;
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return;
    }
    try {
      const st = fstatSync(fd, { bigint: true });
      if (versionOf(st) !== last.key) return;
      const read = reader(fd);
      const h = createHash(hashLen === 20 ? 'sha1' : 'sha256');
      const body = Number(st.size) - hashLen;
      for (let pos = 0; pos < body; ) {
        const chunk = read(pos, Math.min(WINDOW, body - pos));
        if (!chunk.length) return;
        h.update(chunk);
        pos += chunk.length;
      }
      if (h.digest().equals(read(body, hashLen))) this.verified = last.key;
    } catch {
      // unreadable now: the patch checks the hash as it copies
    } finally {
      closeSync(fd);
    }
  }
}

const WINDOW = 256 * 1024;

/** Positional reads of `fd` through one reused buffer: a chunk is valid until the next read. */
function reader(fd: number): ReadAt {
  let buf = Buffer.alloc(0);
  return (position, length) => {
    if (buf.length < length) buf = Buffer.allocUnsafe(length);
    return buf.subarray(0, readSync(fd, buf, 0, length, position));
  };
}

function versionOf(st: BigIntStats): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

function subset(scan: IndexScan, want: ReadonlySet<string>): IndexScan {
  const entries: IndexScan['entries'] = new Map();
  for (const p of want) {
    const e = scan.entries.get(p);
    if (e !== undefined) entries.set(p, typeof e === 'string' ? e : { ...e });
  }
  return { entries, unmerged: scan.unmerged, layout: scan.layout };
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
 * said null, the file beside could not be written. `known`: the reader whose last scan may already
 * hold this version's layout and checked hash.
 */
export async function prepareIndexEntries(
  file: string,
  scratch: string,
  paths: readonly string[],
  decide: (real: Map<string, IndexEntry | 'conflict'>) => Map<string, Entry> | null,
  known?: IndexReader,
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
    const read = reader(fd);
    const want = new Set(paths);
    const seen = known?.known(st, want);
    const r = seen ? patchable(seen.scan, hasher) : readIndexForPatch(read, Number(st.size), want, Number(st.mtimeNs / 1_000_000_000n), hasher);
    const changes = r && decide(r.entries);
    if (!r || !changes) return null;
    if (!changes.size) return { commit: async () => true, discard: async () => undefined };
    const mode = Number(st.mode & 0o777n);
    const out = openSync(scratch, 'w', mode);
    try {
      fchmodSync(out, mode); // the umask narrowed it; the index keeps its own mode (core.sharedRepository)
      const write = (chunk: Uint8Array) => {
        for (let at = 0; at < chunk.length; ) at += writeSync(out, chunk, at);
      };
      done = writePatchedIndex(read, r, changes, hasher, write, seen?.verified);
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
  return {
    commit: async () => {
      const swapped = swapIn(file, scratch, st);
      if (!swapped) await discard();
      return swapped;
    },
    discard,
  };
}

/**
 * `scratch` renamed over `file` under index.lock, if `file` is still the version `was`. Made of
 * synchronous calls of microseconds each: as promises, each waited for a thread-pool turn, and
 * the seven of them were ~1.8 ms at the end of every commit.
 */
function swapIn(file: string, scratch: string, was: BigIntStats): boolean {
  const lockFile = `${file}.lock`;
  const prev = `${scratch}.prev`;
  let lock: number | null = null;
  let linked = false;
  try {
    lock = openSync(lockFile, 'wx');
    // Someone's git wrote it since it was read: git does the update from the new version.
    if (versionOf(statSync(file, { bigint: true })) !== versionOf(was)) return false;
    linked = linkAside(file, prev);
    renameSync(scratch, file);
    return true;
  } catch {
    return false; // a held lock, another file system: git does it, and says what failed
  } finally {
    if (lock !== null) {
      closeSync(lock);
      rmSync(lockFile, { force: true });
    }
    if (linked) void unlink(prev).catch(() => undefined);
  }
}

/** A second name for `file` at `prev` (one left by a crash is replaced); false when the file system refuses links. */
function linkAside(file: string, prev: string): boolean {
  for (let tries = 0; tries < 2; tries++) {
    try {
      linkSync(file, prev);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return false;
      rmSync(prev, { force: true });
    }
  }
  return false;
}

/** `prepareIndexEntries` and its `commit()` at once; false: git must do it. */
export async function replaceIndexEntries(...args: Parameters<typeof prepareIndexEntries>): Promise<boolean> {
  const patch = await prepareIndexEntries(...args);
  return patch ? patch.commit() : false;
}
