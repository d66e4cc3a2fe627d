/**
 * Reads git's index file (`.git/index`, format versions 2, 3 and 4) for what the committer asks of
 * the person's index: the entries of a batch's paths and whether any entry is unmerged. Each such
 * question cost a `git ls-files` spawn that read the whole index (three per commit: 5–8 ms of
 * spawn and ~6 ms of reading at 50k tracked files, far more on a loaded machine); scanning the
 * file here costs a read of it and one pass over its entries, without decoding a name whose
 * length differs from every wanted one.
 *
 * Pure: the file is read through `read(position, length)`, so the adapter decides how (a window of
 * positional reads: a 100k-entry index is ~8 MB, and is never held whole). Whatever this reader does
 * not know answers null, and the caller asks git: a split index (`link`), a sparse index (`sdir`),
 * another version, a file that does not parse to its end with either hash length.
 * Format: git's Documentation/gitformat-index.txt.
 */
import type { IndexEntry } from './plumbing.js';

export interface IndexScan {
  /** The wanted paths present in the index; a path with entries at stages 1–3 maps to 'conflict'. */
  entries: Map<string, IndexEntry | 'conflict'>;
  /** Some entry (any path) is at stage 1–3: a merge's conflict is in the index. */
  unmerged: boolean;
  /**
   * Where things are, for replacing wanted entries in place (index-patch.ts): present when the
   * index's mtime was given and every extension is one that patching keeps.
   */
  layout?: IndexLayout;
}

/** The file's layout as index-patch.ts needs it: the wanted entries' places, the racy ones, the extensions. */
export interface IndexLayout {
  size: number;
  hashLen: number;
  /** A wanted path's stage-0 entry: where it is, whether it has extended flags, its flags' first byte; offset -1: in conflict. */
  targets: Map<string, { offset: number; extended: boolean; flagsHigh: number }>;
  /** Entries stat-clean in the same second as the index was written (git's "racily clean"). */
  racy: number[];
  entriesEnd: number;
  /** Each extension after the entries, its body copied (TREE and UNTR are small beside the entries). */
  extensions: { sig: string; data: Uint8Array }[];
}

/**
 * Extensions a patch keeps as they are (TREE is rewritten, EOIE recomputed): replacing an entry in
 * place changes none of them in git either. Any other (`link`, `sdir`, `FSMN`, unknown) leaves
 * the scan without a layout, and the update to git.
 */
const KEPT = new Set(['TREE', 'REUC', 'UNTR', 'EOIE', 'IEOT']);

/** Reads up to `length` bytes at `position` (fewer at the end of the file). */
export type ReadAt = (position: number, length: number) => Uint8Array;

/** Bytes of the read window; a refill happens when less than MAX_ENTRY is left in it. */
const WINDOW = 256 * 1024;
/** An entry's fixed part (≤ 40 + 32 + 4) plus a name (git allows PATH_MAX, 4096) and a v4 varint. */
const MAX_ENTRY = 4096 + 128;

const CE_STAGEMASK = 0x3000;
const CE_EXTENDED = 0x4000;
const CE_VALID = 0x8000;
const CE_NAMEMASK = 0x0fff;
/** Extended flags (v3+), the second 16 bits: CE_SKIP_WORKTREE and CE_INTENT_TO_ADD >> 16. */
const CE_EXT_SKIP_WORKTREE = 0x4000;
const CE_EXT_INTENT_TO_ADD = 0x2000;

/**
 * The index's entries for `want` and whether any entry is unmerged, or null when this reader
 * cannot answer (the caller then asks git).
 *
 * @param size the file's size in bytes
 * @param indexMtime the file's mtime in whole seconds, for git's racy-clean check: asks for the layout
 * @example
 *   const buf = readFileSync('.git/index');
 *   scanIndex((pos, len) => buf.subarray(pos, pos + len), buf.length, new Set(['docs/a.md']));
 *   // { entries: Map { 'docs/a.md' => { mode: '100644', oid: '…' } }, unmerged: false }
 */
export function scanIndex(read: ReadAt, size: number, want: ReadonlySet<string>, indexMtime?: number): IndexScan | null {
  if (size < 12 + 20) return null;
  const head = read(0, 12);
  if (head.length < 12 || head[0] !== 0x44 || head[1] !== 0x49 || head[2] !== 0x52 || head[3] !== 0x43) return null; // DIRC
  const version = u32(head, 4);
  if (version < 2 || version > 4) return null;
  const count = u32(head, 8);
  // The hash length is not in the file: a SHA-1 or SHA-256 repository. The one whose entries and
  // extensions end exactly at the trailing checksum is the right one.
  for (const hashLen of [20, 32]) {
    const r = scanWith(read, size, want, version, count, hashLen, indexMtime);
    if (r) return r;
  }
  return null;
}

function scanWith(read: ReadAt, size: number, want: ReadonlySet<string>, version: number, count: number, hashLen: number, indexMtime?: number): IndexScan | null {
  const entries = new Map<string, IndexEntry | 'conflict'>();
  const targets: IndexLayout['targets'] = new Map();
  const racy: number[] = [];
  const withLayout = indexMtime !== undefined;
  let unmerged = false;
  let pos = walkEntries(read, size, want, version, count, hashLen, ({ pos, win, o, flags, ext, name }) => {
    const stage = (flags & CE_STAGEMASK) >> 12;
    if (stage) unmerged = true;
    // Stat-clean entries from the index's own second may hide a later change of the same size.
    if (withLayout && u32(win, o + 8) >= indexMtime && u32(win, o + 36) !== 0) racy.push(pos);
    if (!name) return;
    const path = name.toString('utf8');
    if (stage) {
      entries.set(path, 'conflict');
      targets.set(path, { offset: -1, extended: true, flagsHigh: 0 });
    } else if (entries.get(path) !== 'conflict') {
      entries.set(path, entryAt(win, o, hashLen, flags, ext));
      targets.set(path, { offset: pos, extended: ext !== 0, flagsHigh: flags >> 8 });
    }
  });
  if (pos === null) return null;
  // Extensions until the trailing checksum: a split or sparse index is not read here.
  const entriesEnd = pos;
  const end = size - hashLen;
  let extensions: IndexLayout['extensions'] | null = withLayout ? [] : null;
  while (pos < end) {
    if (pos + 8 > end) return null;
    const h = read(pos, 8);
    if (h.length < 8) return null;
    const sig = String.fromCharCode(h[0]!, h[1]!, h[2]!, h[3]!);
    if (sig === 'link' || sig === 'sdir') return null;
    const len = u32(h, 4);
    if (pos + 8 + len > end) return null;
    if (extensions && KEPT.has(sig)) extensions.push({ sig, data: Buffer.from(read(pos + 8, len)) });
    else extensions = null;
    pos += 8 + len;
  }
  if (pos !== end) return null;
  return extensions ? { entries, unmerged, layout: { size, hashLen, targets, racy, entriesEnd, extensions } } : { entries, unmerged };
}

/** One entry as `walkEntries` shows it: its bytes are `win[o…]`, valid during the call only. */
export interface EntryAt {
  /** Its offset in the file. */
  pos: number;
  win: Uint8Array;
  o: number;
  flags: number;
  /** The extended flags (v3+), or 0. */
  ext: number;
  /** The wanted name it bears (one of `want`, as UTF-8 bytes), or null. */
  name: Buffer | null;
}

/**
 * Walks the `count` entries of an index through a window of reads, showing each to `visit` with
 * its name if it is a wanted one. Returns where the entries end, or null where the file does not
 * parse. Only a name of a wanted length is compared, in place (v2/v3: no copy): most of 100k
 * entries are skipped on their length alone.
 */
export function walkEntries(
  read: ReadAt,
  size: number,
  want: ReadonlySet<string>,
  version: number,
  count: number,
  hashLen: number,
  visit: (e: EntryAt) => void,
): number | null {
  const wanted: (Buffer[] | undefined)[] = [];
  for (const p of want) {
    const b = Buffer.from(p, 'utf8');
    (wanted[b.length] ??= []).push(b);
  }
  // The window: bytes [winPos, winPos + win.length) of the file.
  let win: Uint8Array = new Uint8Array(0);
  let winPos = 12;
  let pos = 12;
  const ensure = (need: number): boolean => {
    if (pos - winPos + need <= win.length) return true;
    win = read(pos, Math.max(WINDOW, need));
    winPos = pos;
    return win.length >= Math.min(need, size - pos);
  };
  // v4 names: each is the previous one with `strip` bytes cut from its end and a suffix added.
  let prev: Buffer = Buffer.alloc(0);
  const fixed = 40 + hashLen; // ctime … size, then the object id
  const end = size - hashLen;
  for (let n = 0; n < count; n++) {
    if (pos >= end || !ensure(Math.min(MAX_ENTRY, size - pos))) return null;
    const o = pos - winPos;
    if (o + fixed + 2 > win.length) return null;
    const flags = (win[o + fixed]! << 8) | win[o + fixed + 1]!;
    let nameAt = o + fixed + 2;
    let ext = 0;
    if (flags & CE_EXTENDED) {
      if (version < 3) return null;
      ext = (win[nameAt]! << 8) | win[nameAt + 1]!;
      nameAt += 2;
    }
    let name: Buffer | null = null;
    let next: number;
    if (version === 4) {
      // git's offset varint (varint.c): 7 bits a byte, each continuation adding one.
      let i = nameAt;
      let c = win[i++]!;
      let strip = c & 0x7f;
      while (c & 0x80) {
        if (i >= win.length) return null;
        c = win[i++]!;
        strip = ((strip + 1) << 7) | (c & 0x7f);
      }
      const stop = win.indexOf(0, i);
      if (stop < 0 || winPos + stop >= end || strip > prev.length) return null;
      prev = Buffer.concat([prev.subarray(0, prev.length - strip), win.subarray(i, stop)]);
      for (const w of wanted[prev.length] ?? []) if (sameBytes(w, prev, 0)) name = w;
      next = stop + 1;
    } else {
      let len = flags & CE_NAMEMASK;
      if (len === CE_NAMEMASK) len = win.indexOf(0, nameAt) - nameAt;
      if (len < 0 || winPos + nameAt + len >= end || win[nameAt + len] !== 0) return null;
      const cands = wanted[len];
      if (cands) for (const w of cands) if (sameBytes(w, win, nameAt)) name = w;
      // ondisk_ce_size: the entry padded with 1–8 NULs to a multiple of 8 bytes.
      next = o + ((nameAt - o + len + 8) & ~7);
    }
    visit({ pos, win, o, flags, ext, name });
    pos = winPos + next;
  }
  return pos;
}

/** The entry at `win[o…]` as the committer asks about it. */
export function entryAt(win: Uint8Array, o: number, hashLen: number, flags: number, ext: number): IndexEntry {
  const e: IndexEntry = { mode: u32(win, o + 24).toString(8), oid: hex(win, o + 40, hashLen) };
  if (ext & CE_EXT_INTENT_TO_ADD) e.intentToAdd = true;
  if (ext & CE_EXT_SKIP_WORKTREE) e.skipWorktree = true;
  if (flags & CE_VALID) e.assumeUnchanged = true;
  return e;
}

/**
 * `w` equals `b` at `at`, compared from the end (where paths of a length usually differ) in JS: a
 * native compare costs more than the loop for the ~40k same-length names of a 50k-file tree.
 */
function sameBytes(w: Uint8Array, b: Uint8Array, at: number): boolean {
  for (let i = w.length - 1; i >= 0; i--) if (w[i] !== b[at + i]) return false;
  return true;
}

export function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function hex(b: Uint8Array, at: number, len: number): string {
  return Buffer.from(b.buffer, b.byteOffset + at, len).toString('hex');
}
