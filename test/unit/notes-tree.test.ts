import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { addNote, notesCommitBody, NOTES_LEVEL_MAX } from '../../src/core/history/notes-tree.js';
import { parseRawTree, treeBody } from '../../src/core/commit/trees.js';

const T = 'a'.repeat(40);
const B = 'b'.repeat(40);
const id = (body: Buffer) => createHash('sha1').update(`tree ${body.length}\0`).update(body).digest('hex');

/** An in-memory object store for addNote. */
function store() {
  const trees = new Map<string, Buffer>();
  const put = (entries: { mode: string; name: string; oid: string }[]) => {
    const body = treeBody(entries.map((e) => ({ ...e, name: Buffer.from(e.name) })));
    trees.set(id(body), body);
    return id(body);
  };
  return { trees, put, io: { oidBytes: 20, read: async (o: string) => trees.get(o) ?? null, treeId: id } };
}

test('the notes commit names its time zone as git does (minutes east of UTC)', () => {
  assert.match(notesCommitBody(T, null, 'w <w@l>', 1_700_000_000_000, -330).toString(), /^author w <w@l> 1700000000 \+0530$/m);
  assert.match(notesCommitBody(T, B, 'w <w@l>', 1_700_000_000_000, 300).toString(), /^committer w <w@l> 1700000000 -0500$/m);
  assert.match(notesCommitBody(T, B, 'w <w@l>', 0, 0).toString(), /^tree a{40}\nparent b{40}\nauthor /);
});

test('a first note makes a flat tree; a fanned-out tree gets it in its two-digit folder', async () => {
  const s = store();
  const flat = await addNote(null, T, B, s.io);
  assert.equal(flat!.writes.length, 1);
  assert.deepEqual(parseRawTree(flat!.writes[0]!, 20)!.map((e) => e.name.toString()), [T]);
  const sub = s.put([{ mode: '100644', name: 'c'.repeat(38), oid: B }]);
  const root = s.put([{ mode: '40000', name: 'cc', oid: sub }]);
  const fanned = await addNote(root, T, B, s.io);
  assert.equal(fanned!.writes.length, 2, 'the new folder aa/, then the root');
  assert.deepEqual(parseRawTree(fanned!.writes[1]!, 20)!.map((e) => e.name.toString()), ['aa', 'cc']);
  assert.deepEqual(parseRawTree(fanned!.writes[0]!, 20)!.map((e) => e.name.toString()), ['a'.repeat(38)]);
});

test('git lays the tree out again: a full level, or the note already stored at another depth', async () => {
  const s = store();
  const full = s.put(Array.from({ length: NOTES_LEVEL_MAX }, (_, i) => ({ mode: '100644', name: i.toString(16).padStart(40, '0'), oid: B })));
  assert.equal(await addNote(full, T, B, s.io), null);
  const sub = s.put([{ mode: '100644', name: 'c'.repeat(38), oid: B }]);
  const mixed = s.put([{ mode: '100644', name: T, oid: B }, { mode: '40000', name: 'cc', oid: sub }]);
  assert.equal(await addNote(mixed, T, B, s.io), null);
  assert.equal(await addNote('d'.repeat(40), T, B, s.io), null, 'a missing tree');
});
