/**
 * A commit's tree built from HEAD's trees and the batch's new entries, without any index of the
 * whole workspace (issue 14): only the trees on the paths from the changed entries to the root
 * are written again, the rest are HEAD's, by id. At 100k files `update-index` and `write-tree`
 * on a private index each read and wrote its ~8.8 MB; a batch of a few paths touches a few trees.
 *
 * Pure: the shell (daemon/commit/direct-tree.ts) reads HEAD's trees through the long-lived
 * cat-file, gives a hash function, and writes the trees built here with one `git mktree --batch`,
 * checking that git names each one as computed here.
 */
import type { Entry } from './plumbing.js';

/** One entry of a tree object; the name is kept as bytes (a name need not be UTF-8). */
export interface RawTreeEntry {
  /** The mode as stored in the tree: `40000` for a tree, `100644`, `100755`, `120000`, `160000`. */
  mode: string;
  name: Buffer;
  oid: string;
}

/** A folder's tree in HEAD: its id and entries. */
export interface OldTree {
  oid: string;
  entries: RawTreeEntry[];
}

/** A tree to write, children before their parents. */
export interface TreeWrite {
  dir: string;
  oid: string;
  entries: RawTreeEntry[];
  body: Buffer;
}

export function isTreeMode(mode: string): boolean {
  return mode === '40000' || mode === '040000';
}

/** Entries of a raw tree object (`<mode> <name>\0<raw oid>` repeated); null when it does not parse. */
export function parseRawTree(body: Buffer, oidBytes: number): RawTreeEntry[] | null {
  const out: RawTreeEntry[] = [];
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0) return null;
    const nul = body.indexOf(0, sp + 1);
    if (nul < 0 || nul + 1 + oidBytes > body.length) return null;
    out.push({ mode: body.toString('latin1', i, sp), name: Buffer.from(body.subarray(sp + 1, nul)), oid: body.toString('hex', nul + 1, nul + 1 + oidBytes) });
    i = nul + 1 + oidBytes;
  }
  return out;
}

/**
 * git's order of tree entries (`base_name_compare`): bytewise, a tree's name compared as if it
 * ended in `/`.
 */
export function compareEntries(a: RawTreeEntry, b: RawTreeEntry): number {
  const n = Math.min(a.name.length, b.name.length);
  const c = a.name.compare(b.name, 0, n, 0, n);
  if (c !== 0) return c;
  const ca = a.name.length > n ? a.name[n]! : isTreeMode(a.mode) ? 0x2f : 0;
  const cb = b.name.length > n ? b.name[n]! : isTreeMode(b.mode) ? 0x2f : 0;
  return ca - cb;
}

/**
 * The body of a tree object of `entries` (already in git's order), written into one buffer: a
 * folder of 1,000 entries is rebuilt on the commit's way, where a buffer per part cost ~5 ms.
 */
export function treeBody(entries: readonly RawTreeEntry[]): Buffer {
  let size = 0;
  for (const e of entries) size += e.mode.length + 2 + e.name.length + e.oid.length / 2;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const e of entries) {
    at += out.write(e.mode, at, 'latin1');
    out[at++] = 0x20;
    at += e.name.copy(out, at);
    out[at++] = 0;
    at += out.write(e.oid, at, 'hex');
  }
  return out;
}

/** Every folder above `paths` (`''` is the root), each once. */
export function foldersOf(paths: Iterable<string>): string[] {
  const out = new Set<string>(['']);
  for (const p of paths) for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) out.add(p.slice(0, i));
  return [...out];
}

/**
 * The trees of HEAD's tree with `changes` applied (path → new entry, or null: removed). `old` gives
 * HEAD's tree of each folder of `foldersOf(changes)` (null: the folder is not in HEAD). A folder
 * left empty disappears from its parent, as git never records an empty tree.
 *
 * Returns the root tree's id and the trees to write, children first; or why this batch cannot be
 * built this way (a file that became a folder or the reverse, a root left empty): the caller then
 * commits it through an index, which knows every case.
 *
 * @example
 *   buildTrees(new Map([['docs/a.md', { mode: '100644', oid: 'b…' }]]), (d) => trees.get(d) ?? null, sha1Tree)
 *   // { root: '…', writes: [{ dir: 'docs', … }, { dir: '', … }] }
 */
export function buildTrees(
  changes: ReadonlyMap<string, Entry | null>,
  old: (dir: string) => OldTree | null | undefined,
  hash: (body: Buffer) => string,
): { root: string; writes: TreeWrite[] } | { conflict: string } {
  const byDir = new Map<string, Map<string, Entry | null>>();
  for (const [path, entry] of changes) {
    const i = path.lastIndexOf('/');
    const dir = i < 0 ? '' : path.slice(0, i);
    let m = byDir.get(dir);
    if (!m) byDir.set(dir, (m = new Map()));
    m.set(i < 0 ? path : path.slice(i + 1), entry);
  }
  const dirs = foldersOf(changes.keys()).sort((a, b) => depth(b) - depth(a));
  /** A folder's new tree id, or null when it is left empty. */
  const built = new Map<string, string | null>();
  const writes: TreeWrite[] = [];
  for (const dir of dirs) {
    const was = old(dir);
    if (was === undefined) return { conflict: `the tree of ${dir || 'the root'} was not read` };
    // HEAD's entries are in git's order, and a Map keeps that order when an entry is replaced or
    // removed: only a new name needs a sort (git checks the order: mktree names the tree).
    const entries = new Map<string, RawTreeEntry>();
    for (const e of was?.entries ?? []) entries.set(e.name.toString('latin1'), e);
    let added = false;
    for (const [name, entry] of byDir.get(dir) ?? []) {
      const key = Buffer.from(name, 'utf8').toString('latin1');
      const cur = entries.get(key);
      if (cur && isTreeMode(cur.mode)) return { conflict: `${join(dir, name)} is a folder in HEAD` };
      if (entry === null) entries.delete(key);
      else entries.set(key, { mode: entry.mode, name: Buffer.from(name, 'utf8'), oid: entry.oid });
      added ||= entry !== null && !cur;
    }
    for (const [child, oid] of built) {
      if (parentOf(child) !== dir) continue;
      const name = child.slice(dir ? dir.length + 1 : 0);
      const key = Buffer.from(name, 'utf8').toString('latin1');
      const cur = entries.get(key);
      if (cur && !isTreeMode(cur.mode)) return { conflict: `${child} is a file in HEAD and a folder now` };
      if (oid === null) entries.delete(key);
      else entries.set(key, { mode: '40000', name: Buffer.from(name, 'utf8'), oid });
      added ||= oid !== null && !cur;
    }
    if (entries.size === 0) {
      if (dir === '') return { conflict: 'the commit would leave the root empty' };
      built.set(dir, null);
      continue;
    }
    const sorted = added ? [...entries.values()].sort(compareEntries) : [...entries.values()];
    const body = treeBody(sorted);
    const oid = hash(body);
    built.set(dir, oid);
    if (oid !== was?.oid) writes.push({ dir, oid, entries: sorted, body });
  }
  return { root: built.get('')!, writes };
}

/** `git mktree -z --batch` input for `writes`: one record per entry, an empty record between trees. */
export function mktreeInput(writes: readonly TreeWrite[]): Buffer {
  const typeOf = (mode: string) => (isTreeMode(mode) ? 'tree' : mode === '160000' ? 'commit' : 'blob');
  let size = Math.max(0, writes.length - 1);
  for (const w of writes) for (const e of w.entries) size += e.mode.length + typeOf(e.mode).length + e.oid.length + 4 + e.name.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  writes.forEach((w, i) => {
    if (i > 0) out[at++] = 0;
    for (const e of w.entries) {
      at += out.write(`${e.mode} ${typeOf(e.mode)} ${e.oid}\t`, at, 'latin1');
      at += e.name.copy(out, at);
      out[at++] = 0;
    }
  });
  return out;
}

/** The entries of `paths` in a tree, walked from the root through `tree(dir)` (folders and absent paths left out). */
export function entriesAt(paths: readonly string[], tree: (dir: string) => OldTree | null | undefined): Map<string, Entry> | null {
  const out = new Map<string, Entry>();
  for (const p of paths) {
    const i = p.lastIndexOf('/');
    const t = tree(i < 0 ? '' : p.slice(0, i));
    if (t === undefined) return null;
    if (t === null) continue;
    const name = Buffer.from(i < 0 ? p : p.slice(i + 1), 'utf8');
    const e = t.entries.find((x) => x.name.equals(name));
    if (e && !isTreeMode(e.mode)) out.set(p, { mode: e.mode.padStart(6, '0'), oid: e.oid });
  }
  return out;
}

function depth(dir: string): number {
  if (dir === '') return 0;
  let n = 1;
  for (let i = dir.indexOf('/'); i >= 0; i = dir.indexOf('/', i + 1)) n++;
  return n;
}

function parentOf(dir: string): string {
  const i = dir.lastIndexOf('/');
  return i < 0 ? '' : dir.slice(0, i);
}

function join(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}
