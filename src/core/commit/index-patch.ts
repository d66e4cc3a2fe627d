/**
 * The person's index with some entries replaced, in-process: what `git update-index -z
 * --index-info` does to a path already in the index at stage 0 (the new mode and object id, stat
 * data zeroed so that git compares the content next time, the cache tree invalidated along the
 * path), without a git that reads and rewrites the whole file. At 50k tracked files that spawn was
 * ~35 ms of every commit (git 2.39 hashes the 4 MB file with its collision-detecting SHA-1); here
 * the file is walked once to find the entries (index-file.ts's scan, usually made while the batch
 * settled) and once to copy it, through a window, and hashed by OpenSSL.
 *
 * Everything else answers null and git does it: an addition or a removal (the entry list and the
 * untracked cache change), an entry with extended flags (intent-to-add, skip-worktree), a conflict,
 * a split or sparse index, an fsmonitor extension or one this code does not know, a file that does
 * not parse to its end. Pure: hashing is passed in. Format: git's Documentation/gitformat-index.txt;
 * the result is checked byte for byte against git's own in test/integration/index-patch.test.ts.
 */
import type { Entry, IndexEntry } from './plumbing.js';
import { scanIndex, type IndexLayout, type IndexScan, type ReadAt } from './index-file.js';

/** An incremental hash (SHA-1 or SHA-256, by the repository's object format). */
export type Hasher = (algorithm: 'sha1' | 'sha256') => { update(data: Uint8Array): void; digest(): Uint8Array };

/** An index file read for a patch: the wanted paths' entries, and where they are. */
export interface ReadIndex {
  /** The wanted paths present in the index; a path with entries at stages 1–3 maps to 'conflict'. */
  entries: Map<string, IndexEntry | 'conflict'>;
  /** @internal what `writePatchedIndex` needs */
  at: IndexLayout;
}

const CE_VALID = 0x8000;
/**
 * Bytes read at a time: the file is never held whole (8 MB at 100k files, twice over with the
 * patched copy, put the daemon's peak 30–40 MB higher in scale-100k).
 */
const WINDOW = 256 * 1024;

/**
 * Reads an index file of `size` bytes for `want`; null when it is not one this code patches. Its
 * trailing hash is checked as the patched copy is written (`writePatchedIndex`).
 *
 * @param indexMtime the file's mtime in whole seconds, for git's racy-clean check
 */
export function readIndexForPatch(read: ReadAt, size: number, want: ReadonlySet<string>, indexMtime: number, hasher: Hasher): ReadIndex | null {
  const scan = scanIndex(read, size, want, indexMtime);
  return scan && patchable(scan, hasher);
}

/** A scan made with the index's mtime (`scanIndex`) as a read for a patch; null when it is not one this code patches. */
export function patchable(scan: IndexScan, hasher: Hasher): ReadIndex | null {
  const at = scan.layout;
  if (!at) return null;
  const eoie = at.extensions.find((e) => e.sig === 'EOIE');
  if (eoie && !equal(eoieData(at, hasher, at.extensions), eoie.data)) return null;
  return { entries: scan.entries, at };
}

/**
 * Writes the index after replacing the entries of `changes` (each path's stage-0 entry) through
 * `write` (which must take each chunk before the next read), with its trailing hash. False, with
 * what was written to be thrown away: one of them is not a plain stage-0 entry, or the file does
 * not match its own trailing hash.
 *
 * @param verified this version's trailing hash was already checked: not hashed again (2 ms at 50k files)
 */
export function writePatchedIndex(
  read: ReadAt,
  r: ReadIndex,
  changes: ReadonlyMap<string, Entry>,
  hasher: Hasher,
  write: (chunk: Uint8Array) => void,
  verified = false,
): boolean {
  const { size, hashLen, targets, racy, entriesEnd, extensions } = r.at;
  const patches: { at: number; bytes: Uint8Array }[] = [];
  // git smudges a racily clean entry (size 0: compare the content next time) when it writes the
  // index; it checks the content first, this does not: a needless compare later, never a miss.
  for (const o of racy) patches.push({ at: o + 36, bytes: new Uint8Array(4) });
  for (const [path, e] of changes) {
    const t = targets.get(path);
    if (!t || t.offset < 0 || t.extended || e.oid.length !== hashLen * 2) return false;
    const stat = new Uint8Array(40); // ctime … size: never looked at, as after --index-info
    put32(stat, 24, parseInt(e.mode, 8));
    patches.push({ at: t.offset, bytes: stat }, { at: t.offset + 40, bytes: Buffer.from(e.oid, 'hex') });
    patches.push({ at: t.offset + 40 + hashLen, bytes: Uint8Array.of(t.flagsHigh & ~(CE_VALID >> 8)) }); // assume-unchanged is cleared
  }
  patches.sort((a, b) => a.at - b.at);
  const exts: { sig: string; data: Uint8Array }[] = [];
  for (const x of extensions) {
    const data = x.sig === 'TREE' ? invalidateTree(x.data, [...changes.keys()], hashLen) : x.data;
    if (!data) return false;
    exts.push({ sig: x.sig, data });
  }
  // EOIE: the offset of the extensions and a hash of the headers of those before it.
  for (const x of exts) if (x.sig === 'EOIE') x.data = eoieData(r.at, hasher, exts);
  const algorithm = hashLen === 20 ? 'sha1' : 'sha256';
  const old = verified ? null : hasher(algorithm);
  const out = hasher(algorithm);
  const emit = (b: Uint8Array) => {
    out.update(b);
    write(b);
  };
  const body = size - hashLen;
  let p = 0;
  for (let pos = 0; pos < body; ) {
    const chunk = read(pos, Math.min(WINDOW, body - pos));
    if (!chunk.length) return false;
    old?.update(chunk);
    const n = Math.min(chunk.length, Math.max(0, entriesEnd - pos)); // the part that is entries
    for (; p < patches.length && patches[p]!.at < pos + n; p++) {
      const { at, bytes } = patches[p]!;
      for (let i = Math.max(at, pos); i < Math.min(at + bytes.length, pos + n); i++) chunk[i - pos] = bytes[i - at]!;
      if (at + bytes.length > pos + n) break; // goes on in the next chunk
    }
    if (n) emit(chunk.subarray(0, n));
    pos += chunk.length;
  }
  if (old && !equal(old.digest(), read(body, hashLen))) return false;
  for (const x of exts) {
    emit(header(x.sig, x.data.length));
    emit(x.data);
  }
  write(out.digest());
  return true;
}

interface TreeNode {
  name: Buffer;
  count: number;
  oid: Uint8Array | null;
  subtrees: TreeNode[];
}

/**
 * The cache tree (TREE) with every directory on each path's way marked invalid, as git's
 * cache_tree_invalidate_path does: entry count -1, no object id, and a subtree that bears the
 * path's own name dropped.
 */
function invalidateTree(data: Uint8Array, paths: string[], hashLen: number): Uint8Array | null {
  let pos = 0;
  const node = (): TreeNode | null => {
    const nul = data.indexOf(0, pos);
    const nl = data.indexOf(10, nul);
    if (nul < 0 || nl < 0) return null;
    const m = /^(-?\d+) (\d+)$/.exec(str(data, nul + 1, nl - nul - 1));
    if (!m) return null;
    const n: TreeNode = { name: Buffer.from(data.subarray(pos, nul)), count: Number(m[1]), oid: null, subtrees: [] };
    pos = nl + 1;
    if (n.count >= 0) {
      n.oid = data.subarray(pos, pos + hashLen);
      pos += hashLen;
    }
    for (let i = Number(m[2]); i > 0; i--) {
      const sub = node();
      if (!sub) return null;
      n.subtrees.push(sub);
    }
    return n;
  };
  const root = node();
  if (!root || pos !== data.length) return null;
  for (const p of paths) {
    const parts = p.split('/');
    let it: TreeNode | undefined = root;
    for (let i = 0; it; i++) {
      it.count = -1;
      it.oid = null;
      const name = Buffer.from(parts[i]!, 'utf8');
      const at = it.subtrees.findIndex((s) => s.name.equals(name));
      if (i === parts.length - 1) {
        if (at >= 0) it.subtrees.splice(at, 1);
        break;
      }
      it = at >= 0 ? it.subtrees[at] : undefined;
    }
  }
  const out: Uint8Array[] = [];
  const write = (n: TreeNode) => {
    out.push(n.name, Buffer.from(`\0${n.count} ${n.subtrees.length}\n`));
    if (n.oid) out.push(n.oid);
    n.subtrees.forEach(write);
  };
  write(root);
  return Buffer.concat(out);
}

/** EOIE's body: the offset where the extensions start, and a hash of each header before EOIE. */
function eoieData(at: Pick<IndexLayout, 'entriesEnd' | 'hashLen'>, hasher: Hasher, exts: { sig: string; data: Uint8Array }[]): Uint8Array {
  const h = hasher(at.hashLen === 20 ? 'sha1' : 'sha256');
  for (const x of exts) if (x.sig !== 'EOIE') h.update(header(x.sig, x.data.length));
  const offset = new Uint8Array(4);
  put32(offset, 0, at.entriesEnd);
  return Buffer.concat([offset, h.digest()]);
}

function header(sig: string, size: number): Uint8Array {
  const h = Buffer.alloc(8);
  h.write(sig, 0, 'latin1');
  h.writeUInt32BE(size, 4);
  return h;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function str(b: Uint8Array, at: number, len: number): string {
  return Buffer.from(b.buffer, b.byteOffset + at, len).toString('latin1');
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}
