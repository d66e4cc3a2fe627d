import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildTrees, compareEntries, entriesAt, foldersOf, mktreeInput, parseRawTree, treeBody, type OldTree, type RawTreeEntry } from '../../src/core/commit/trees.js';

const sha1 = (body: Buffer) => createHash('sha1').update(`tree ${body.length}\0`).update(body).digest('hex');
const B = (n: number) => String(n).repeat(40).slice(0, 40);
const e = (mode: string, name: string, oid: string): RawTreeEntry => ({ mode, name: Buffer.from(name), oid });

test("entries sort in git's order: a tree's name compares as if it ended in '/'", () => {
  const sorted = [e('40000', 'a', B(1)), e('100644', 'a.b', B(2)), e('100644', 'a0', B(3))].sort(compareEntries);
  assert.deepEqual(sorted.map((x) => x.name.toString()), ['a.b', 'a', 'a0']);
  const files = [e('100644', 'a0', B(3)), e('100644', 'a', B(1)), e('100644', 'a.b', B(2))].sort(compareEntries);
  assert.deepEqual(files.map((x) => x.name.toString()), ['a', 'a.b', 'a0']);
});

test('a tree body parses back to its entries (names kept as bytes)', () => {
  const entries = [e('100644', 'x', B(1)), { mode: '100755', name: Buffer.from([0x6c, 0xe9]), oid: B(2) }, e('40000', 'z', B(3))];
  assert.deepEqual(parseRawTree(treeBody(entries), 20), entries);
  assert.equal(parseRawTree(Buffer.from('100644 broken'), 20), null);
});

test('only the trees on the paths to the root are built, children first; an emptied folder leaves its parent', () => {
  const docs: OldTree = { oid: B(7), entries: [e('100644', 'a.md', B(1))] };
  const root: OldTree = { oid: B(8), entries: [e('40000', 'docs', docs.oid), e('100644', 'keep.md', B(2))] };
  const trees = new Map<string, OldTree | null>([['', root], ['docs', docs], ['new', null], ['new/deep', null]]);
  const r = buildTrees(new Map([['docs/a.md', null], ['new/deep/n.md', { mode: '100644', oid: B(3) }]]), (d) => trees.get(d), sha1);
  assert.ok('root' in r);
  assert.deepEqual(r.writes.map((w) => w.dir), ['new/deep', 'new', '']);
  const top = r.writes[2]!;
  assert.equal(top.oid, r.root);
  assert.deepEqual(top.entries.map((x) => `${x.mode} ${x.name}`), ['100644 keep.md', '40000 new']);
  assert.equal(sha1(top.body), r.root);
  assert.deepEqual(foldersOf(['a/b/c.md', 'd.md']).sort(), ['', 'a', 'a/b']);
});

test('what a tree cannot say is given back as a conflict: a file that became a folder, a folder that became a file, an empty root, a tree not read', () => {
  const root: OldTree = { oid: B(8), entries: [e('100644', 'f', B(1)), e('40000', 'd', B(2))] };
  const d: OldTree = { oid: B(2), entries: [e('100644', 'x', B(3))] };
  const trees = new Map<string, OldTree | null>([['', root], ['d', d], ['f', null]]);
  const get = (dir: string) => trees.get(dir);
  const conflict = (changes: Map<string, { mode: string; oid: string } | null>) => {
    const r = buildTrees(changes, get, sha1);
    return 'conflict' in r ? r.conflict : null;
  };
  assert.match(conflict(new Map([['f/inner', { mode: '100644', oid: B(4) }]]))!, /f is a file in HEAD/);
  assert.match(conflict(new Map([['d', { mode: '100644', oid: B(4) }]]))!, /d is a folder in HEAD/);
  assert.match(conflict(new Map([['f', null], ['d/x', null]]))!, /root empty/);
  assert.match(conflict(new Map([['other/y', null]]))!, /not read/);
  assert.deepEqual(entriesAt(['d/x', 'f', 'd', 'gone'], get), new Map([['d/x', { mode: '100644', oid: B(3) }], ['f', { mode: '100644', oid: B(1) }]]));
});

test('mktree input: one NUL-terminated record per entry, an empty record between trees', () => {
  const w = (dir: string, entries: RawTreeEntry[]) => ({ dir, oid: '', entries, body: Buffer.alloc(0) });
  const input = mktreeInput([w('a', [e('100644', 'x', B(1)), e('160000', 'sub', B(2))]), w('', [e('40000', 'a', B(3))])]);
  assert.equal(input.toString('latin1'), `100644 blob ${B(1)}\tx\x00160000 commit ${B(2)}\tsub\x00\x0040000 tree ${B(3)}\ta\x00`);
});

test("a folder's entries replaced in place keep git's order without a sort; a new name is sorted in; sha256 ids fit", () => {
  // git's order, with the folder `a` after `a.b` (compared as `a/`).
  const old: OldTree = { oid: B(9), entries: [e('100644', 'a.b', B(1)), e('40000', 'a', B(2)), e('100644', 'a0', B(3)), e('100644', 'z', B(4))] };
  const sub: OldTree = { oid: B(2), entries: [e('100644', 'in', B(5))] };
  const trees = new Map<string, OldTree | null>([['', old], ['a', sub]]);
  const expect = (entries: RawTreeEntry[]) => treeBody([...entries].sort(compareEntries));
  const replaced = buildTrees(new Map([['a0', { mode: '100755', oid: B(6) }], ['a/in', { mode: '100644', oid: B(7) }]]), (d) => trees.get(d), sha1);
  assert.ok('root' in replaced);
  const top = replaced.writes.find((w) => w.dir === '')!;
  assert.deepEqual(top.body, expect(top.entries));
  assert.deepEqual(top.entries.map((x) => x.name.toString()), ['a.b', 'a', 'a0', 'z']);
  const added = buildTrees(new Map([['a-', { mode: '100644', oid: B(8) }], ['z', null]]), (d) => trees.get(d), sha1);
  assert.ok('root' in added);
  assert.deepEqual(added.writes[0]!.entries.map((x) => x.name.toString()), ['a-', 'a.b', 'a', 'a0']);
  assert.deepEqual(added.writes[0]!.body, expect(added.writes[0]!.entries));
  const long = [e('100644', 'x', 'ab'.repeat(32)), { mode: '40000', name: Buffer.from([0xff, 0x41]), oid: 'cd'.repeat(32) }];
  assert.deepEqual(parseRawTree(treeBody(long), 32), long);
  assert.equal(mktreeInput([{ dir: '', oid: '', entries: long, body: Buffer.alloc(0) }]).toString('latin1'), `100644 blob ${'ab'.repeat(32)}\tx\x0040000 tree ${'cd'.repeat(32)}\t\xffA\x00`);
});
