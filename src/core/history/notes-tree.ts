/**
 * A note added to a notes tree as `git notes add -f` lays it out, without a spawn: the committer
 * writes its note's objects itself and moves `refs/notes/winnow` in the same `update-ref`
 * transaction as HEAD (one spawn fewer per commit, and no commit without its note).
 *
 * git reads a note at any fan-out (`ab/cdef…`, `ab/cd/ef…`) and picks the fan-out again whenever it
 * writes the tree (after ~100 notes at one level). Here the note goes where the tree's current
 * layout puts it; anything else — a level grown past NOTES_LEVEL_MAX entries, the note already
 * stored at another depth — is left to `git notes add`, which lays the whole tree out again.
 *
 * Pure: reading and writing objects, and hashing them, are the caller's.
 */
import { compareEntries, isTreeMode, parseRawTree, treeBody, type RawTreeEntry } from '../commit/trees.js';

/** More notes than this at one level of the tree: git lays it out again (`git notes add`). */
export const NOTES_LEVEL_MAX = 256;

export interface NotesTreeIO {
  oidBytes: number;
  /** A tree's raw body, or null when it is missing. */
  read(oid: string): Promise<Buffer | null>;
  /** A tree object's id (git's hash of it); the caller writes the trees afterwards, side by side. */
  treeId(body: Buffer): string;
}

const HEX2 = /^[0-9a-f]{2}$/;

/**
 * The notes tree `tree` (null: no notes yet) with `blob` as the note of `target`: the new root's
 * id and the bodies of the trees to write. Null when git must place it (see the module comment).
 */
export async function addNote(tree: string | null, target: string, blob: string, io: NotesTreeIO): Promise<{ tree: string; writes: Buffer[] } | null> {
  const writes: Buffer[] = [];
  const root = await place(tree, target, blob, io, (body) => (writes.push(body), io.treeId(body)));
  return root ? { tree: root, writes } : null;
}

async function place(tree: string | null, rest: string, blob: string, io: NotesTreeIO, write: (body: Buffer) => string): Promise<string | null> {
  let entries: RawTreeEntry[] = [];
  if (tree) {
    const body = await io.read(tree);
    const parsed = body && parseRawTree(body, io.oidBytes);
    if (!parsed) return null;
    entries = parsed;
  }
  const name = (e: RawTreeEntry) => e.name.toString('latin1');
  const fannedOut = entries.some((e) => isTreeMode(e.mode) && HEX2.test(name(e)));
  if (fannedOut) {
    if (rest.length <= 2 || entries.some((e) => name(e) === rest)) return null;
    const key = rest.slice(0, 2);
    const sub = entries.find((e) => isTreeMode(e.mode) && name(e) === key);
    const id = await place(sub?.oid ?? null, rest.slice(2), blob, io, write);
    return id && write(treeBody(withEntry(entries, { mode: '40000', name: Buffer.from(key, 'latin1'), oid: id })));
  }
  if (entries.filter((e) => !isTreeMode(e.mode)).length >= NOTES_LEVEL_MAX) return null;
  return write(treeBody(withEntry(entries, { mode: '100644', name: Buffer.from(rest, 'latin1'), oid: blob })));
}

/** `entries` with `e` in git's order, replacing the entry of that name. */
function withEntry(entries: readonly RawTreeEntry[], e: RawTreeEntry): RawTreeEntry[] {
  return [...entries.filter((x) => !x.name.equals(e.name)), e].sort(compareEntries);
}

/**
 * The text `git notes add -F` stores: git's `stripspace` without comment stripping — trailing
 * whitespace off every line, runs of empty lines made one, none at the start or end, each line
 * ending in a newline.
 */
export function stripspace(text: string): string {
  const out: string[] = [];
  let empty = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[ \t\n\v\f\r]+$/, '');
    if (line === '') {
      empty++;
      continue;
    }
    if (empty && out.length) out.push('');
    empty = 0;
    out.push(line);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** A notes commit's body, as `git notes add` writes one (its message names winnow). */
export function notesCommitBody(tree: string, parent: string | null, ident: string, atMs: number, tzOffsetMin: number): Buffer {
  const sign = tzOffsetMin <= 0 ? '+' : '-'; // getTimezoneOffset: minutes *behind* UTC
  const abs = Math.abs(tzOffsetMin);
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  const when = `${Math.floor(atMs / 1000)} ${tz}`;
  const lines = [`tree ${tree}`, ...(parent ? [`parent ${parent}`] : []), `author ${ident} ${when}`, `committer ${ident} ${when}`, '', 'Notes added by winnow', ''];
  return Buffer.from(lines.join('\n'), 'utf8');
}
