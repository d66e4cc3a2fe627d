/**
 * The person's index with some entries replaced, in-process: what `git update-index -z
 * --index-info` does to a path already in the index at stage 0 (the new mode and object id, stat
 * data zeroed so that git compares the content next time, the cache tree invalidated along the
 * path), without a git that reads and rewrites the whole file. At 50k tracked files that spawn was
 * ~35 ms of every commit (git 2.39 hashes the 4 MB file with its collision-detecting SHA-1); here
 * the file is walked once and hashed by OpenSSL.
 *
 * Everything else answers null and git does it: an addition or a removal (the entry list and the
 * untracked cache change), an entry with extended flags (intent-to-add, skip-worktree), a conflict,
 * a split or sparse index, an fsmonitor extension or one this code does not know, a file that does
 * not parse to its end. Pure: hashing is passed in. Format: git's Documentation/gitformat-index.txt;
 * the result is checked byte for byte against git's own in test/unit/index-patch.test.ts.
 */
import type { Entry, IndexEntry } from './plumbing.js';

/** A hash over `parts` (SHA-1 or SHA-256, by the repository's object format). */
export type Digest = (algorithm: 'sha1' | 'sha256', parts: Uint8Array[]) => Uint8Array;

/** An index file read for a patch: the wanted paths' entries, and where they are. */
export interface ReadIndex {
  /** The wanted paths present in the index; a path with entries at stages 1–3 maps to 'conflict'. */
  entries: Map<string, IndexEntry | 'conflict'>;
  /** @internal what `patchIndex` needs */
  at: Parsed;
}

interface Parsed {
  buf: Uint8Array;
  hashLen: number;
  /** Offset of a wanted path's stage-0 entry, and whether it carries extended flags. */
  offsets: Map<string, { offset: number; extended: boolean }>;
  /** Entries stat-clean in the same second as the index was written (git's "racily clean"). */
  racy: number[];
  entriesEnd: number;
  extensions: { sig: string; start: number; size: number }[];
}

const CE_STAGEMASK = 0x3000;
const CE_EXTENDED = 0x4000;
const CE_VALID = 0x8000;
const CE_NAMEMASK = 0x0fff;
const CE_EXT_SKIP_WORKTREE = 0x4000;
const CE_EXT_INTENT_TO_ADD = 0x2000;
/**
 * Extensions kept as they are (TREE is rewritten, EOIE recomputed): replacing an entry in place
 * changes none of them in git either. Any other (`link`, `sdir`, `FSMN`, unknown) sends the
 * update to git.
 */
const KEPT = new Set(['TREE', 'REUC', 'UNTR', 'EOIE', 'IEOT']);

/**
 * Reads a whole index file for `want`, checking its trailing hash; null when it is not one this
 * code patches.
 *
 * @param indexMtime the file's mtime in whole seconds, for git's racy-clean check
 */
export function readIndexForPatch(buf: Uint8Array, want: ReadonlySet<string>, indexMtime: number, digest: Digest): ReadIndex | null {
  if (buf.length < 12 + 20 || str(buf, 0, 4) !== 'DIRC') return null;
  const version = u32(buf, 4);
  if (version < 2 || version > 4) return null;
  for (const hashLen of [20, 32]) {
    const at = parse(buf, want, version, hashLen, indexMtime);
    if (!at) continue;
    const sum = digest(hashLen === 20 ? 'sha1' : 'sha256', [buf.subarray(0, buf.length - hashLen)]);
    if (!equal(sum, buf.subarray(buf.length - hashLen))) return null;
    const eoie = at.extensions.find((e) => e.sig === 'EOIE');
    if (eoie && !equal(eoieData(at, digest), buf.subarray(eoie.start + 8, eoie.start + 8 + eoie.size))) return null;
    return { entries: entriesOf(at, want), at };
  }
  return null;
}

/**
 * The index after replacing the entries of `changes` (each path's stage-0 entry), with its
 * trailing hash; null when one of them is not a plain stage-0 entry of the file.
 */
export function patchIndex(read: ReadIndex, changes: ReadonlyMap<string, Entry>, digest: Digest): Uint8Array | null {
  const { buf, hashLen, offsets, racy, entriesEnd, extensions } = read.at;
  const targets: [number, Entry][] = [];
  for (const [path, e] of changes) {
    const at = offsets.get(path);
    if (!at || at.extended || e.oid.length !== hashLen * 2) return null;
    targets.push([at.offset, e]);
  }
  const exts: { sig: string; data: Uint8Array }[] = [];
  for (const x of extensions) {
    let data = buf.subarray(x.start + 8, x.start + 8 + x.size);
    if (x.sig === 'TREE') {
      const tree = invalidateTree(data, [...changes.keys()], hashLen);
      if (!tree) return null;
      data = tree;
    }
    exts.push({ sig: x.sig, data });
  }
  // EOIE: the offset of the extensions and a hash of the headers of those before it.
  for (const x of exts) if (x.sig === 'EOIE') x.data = eoieData({ buf, entriesEnd, hashLen, extensions: [] }, digest, exts);
  // One buffer, written in place: the file is 4 MB at 50k entries, and each copy of it counts.
  const out = Buffer.allocUnsafe(exts.reduce((n, x) => n + 8 + x.data.length, entriesEnd + hashLen));
  out.set(buf.subarray(0, entriesEnd));
  // git smudges a racily clean entry (size 0: compare the content next time) when it writes the
  // index; it checks the content first, this does not: a needless compare later, never a miss.
  for (const o of racy) put32(out, o + 36, 0);
  for (const [o, e] of targets) {
    out.fill(0, o, o + 40); // ctime … size: never looked at, as after --index-info
    put32(out, o + 24, parseInt(e.mode, 8));
    out.write(e.oid, o + 40, 'hex');
    out[o + 40 + hashLen] = out[o + 40 + hashLen]! & ~(CE_VALID >> 8); // assume-unchanged is cleared
  }
  let at = entriesEnd;
  for (const x of exts) {
    out.set(header(x.sig, x.data.length), at);
    out.set(x.data, at + 8);
    at += 8 + x.data.length;
  }
  out.set(digest(hashLen === 20 ? 'sha1' : 'sha256', [out.subarray(0, at)]), at);
  return out;
}

function parse(buf: Uint8Array, want: ReadonlySet<string>, version: number, hashLen: number, indexMtime: number): Parsed | null {
  // Wanted names by byte length: most entries are skipped on their length alone.
  const wanted: (Buffer[] | undefined)[] = [];
  for (const p of want) {
    const b = Buffer.from(p, 'utf8');
    (wanted[b.length] ??= []).push(b);
  }
  const offsets: Parsed['offsets'] = new Map();
  const conflicts = new Set<string>();
  const racy: number[] = [];
  const count = u32(buf, 8);
  const end = buf.length - hashLen;
  const fixed = 40 + hashLen;
  let prev = Buffer.alloc(0);
  let pos = 12;
  for (let n = 0; n < count; n++) {
    if (pos + fixed + 2 > end) return null;
    const flags = (buf[pos + fixed]! << 8) | buf[pos + fixed + 1]!;
    let nameAt = pos + fixed + 2;
    let ext = 0;
    if (flags & CE_EXTENDED) {
      if (version < 3) return null;
      ext = (buf[nameAt]! << 8) | buf[nameAt + 1]!;
      nameAt += 2;
    }
    let name: Buffer | null = null;
    let next: number;
    if (version === 4) {
      const v = varint(buf, nameAt);
      const stop = buf.indexOf(0, v.next);
      if (stop < 0 || stop >= end || v.value > prev.length) return null;
      prev = Buffer.concat([prev.subarray(0, prev.length - v.value), buf.subarray(v.next, stop)]);
      const cands = wanted[prev.length];
      if (cands) for (const w of cands) if (sameBytes(w, prev, 0)) name = w;
      next = stop + 1;
    } else {
      let len = flags & CE_NAMEMASK;
      if (len === CE_NAMEMASK) len = buf.indexOf(0, nameAt) - nameAt;
      if (len < 0 || nameAt + len >= end || buf[nameAt + len] !== 0) return null;
      const cands = wanted[len];
      if (cands) for (const w of cands) if (sameBytes(w, buf, nameAt)) name = w;
      next = pos + ((nameAt - pos + len + 8) & ~7);
    }
    // Stat-clean entries from the index's own second may hide a later change of the same size.
    if (u32(buf, pos + 8) >= indexMtime && u32(buf, pos + 36) !== 0) racy.push(pos);
    if (name) {
      const path = name.toString('utf8');
      if (flags & CE_STAGEMASK) conflicts.add(path);
      else offsets.set(path, { offset: pos, extended: ext !== 0 });
    }
    pos = next;
  }
  for (const p of conflicts) offsets.set(p, { offset: -1, extended: true });
  const extensions: Parsed['extensions'] = [];
  const entriesEnd = pos;
  while (pos < end) {
    if (pos + 8 > end) return null;
    const sig = str(buf, pos, 4);
    const size = u32(buf, pos + 4);
    if (!KEPT.has(sig)) return null;
    extensions.push({ sig, start: pos, size });
    pos += 8 + size;
  }
  return pos === end ? { buf, hashLen, offsets, racy, entriesEnd, extensions } : null;
}

function entriesOf(at: Parsed, want: ReadonlySet<string>): Map<string, IndexEntry | 'conflict'> {
  const out = new Map<string, IndexEntry | 'conflict'>();
  const { buf, hashLen } = at;
  for (const p of want) {
    const e = at.offsets.get(p);
    if (!e) continue;
    if (e.offset < 0) {
      out.set(p, 'conflict');
      continue;
    }
    const o = e.offset;
    const flags = (buf[o + 40 + hashLen]! << 8) | buf[o + 41 + hashLen]!;
    const ext = flags & CE_EXTENDED ? (buf[o + 42 + hashLen]! << 8) | buf[o + 43 + hashLen]! : 0;
    const entry: IndexEntry = { mode: u32(buf, o + 24).toString(8), oid: Buffer.from(buf.buffer, buf.byteOffset + o + 40, hashLen).toString('hex') };
    if (ext & CE_EXT_INTENT_TO_ADD) entry.intentToAdd = true;
    if (ext & CE_EXT_SKIP_WORKTREE) entry.skipWorktree = true;
    if (flags & CE_VALID) entry.assumeUnchanged = true;
    out.set(p, entry);
  }
  return out;
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
function eoieData(at: Pick<Parsed, 'buf' | 'entriesEnd' | 'hashLen' | 'extensions'>, digest: Digest, exts?: { sig: string; data: Uint8Array }[]): Uint8Array {
  const list = exts ?? at.extensions.map((x) => ({ sig: x.sig, data: { length: x.size } as Uint8Array }));
  const headers = list.filter((x) => x.sig !== 'EOIE').map((x) => header(x.sig, x.data.length));
  const offset = new Uint8Array(4);
  put32(offset, 0, at.entriesEnd);
  return Buffer.concat([offset, digest(at.hashLen === 20 ? 'sha1' : 'sha256', headers)]);
}

function header(sig: string, size: number): Uint8Array {
  const h = Buffer.alloc(8);
  h.write(sig, 0, 'latin1');
  h.writeUInt32BE(size, 4);
  return h;
}

/** git's offset varint (varint.c): 7 bits a byte, each continuation adding one. */
function varint(b: Uint8Array, at: number): { value: number; next: number } {
  let c = b[at++]!;
  let value = c & 0x7f;
  while (c & 0x80 && at < b.length) {
    c = b[at++]!;
    value = ((value + 1) << 7) | (c & 0x7f);
  }
  return { value, next: at };
}

/**
 * `w` equals `b` at `at`, compared from the end (where paths of a length usually differ) in JS: a
 * native compare costs more than the loop for the ~40k same-length names of a 50k-file tree.
 */
function sameBytes(w: Uint8Array, b: Uint8Array, at: number): boolean {
  for (let i = w.length - 1; i >= 0; i--) if (w[i] !== b[at + i]) return false;
  return true;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
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
