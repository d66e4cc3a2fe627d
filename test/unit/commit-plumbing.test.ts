import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseLsTree,
  parseLsFiles,
  realIndexUpdate,
  updateRefStep,
  updateRefInput,
  updatePrivateStep,
  commitTreeStep,
  readTreeStep,
  formatJournal,
  parseJournal,
  parseWorktreeCounts,
  parseHead,
  chunkPaths,
  type Entry,
} from '../../src/core/commit/plumbing.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const e = (oid: string, mode = '100644'): Entry => ({ mode, oid });

test('parsers: ls-tree and ls-files -s, NUL-separated, odd names intact, directories and conflicts told apart', () => {
  const tree = `100644 blob ${A}\tnew\nline.md\x00120000 blob ${B}\tlink\x00100644 blob ${C}\tdir/inside\0`;
  assert.deepEqual([...parseLsTree(tree)], [
    ['new\nline.md', e(A)],
    ['link', e(B, '120000')],
    ['dir/inside', e(C)],
  ]);
  // A directory named in the batch matches its files under -r; only exact paths count.
  assert.deepEqual([...parseLsTree(tree, new Set(['dir', 'link']))].map(([p]) => p), ['link']);
  const files = `100644 ${A} 0\t-rf\x00100644 ${A} 1\tboth.md\x00100644 ${B} 2\tboth.md\x00100755 ${C} 0\trun.sh\0`;
  assert.deepEqual([...parseLsFiles(files)], [
    ['-rf', e(A)],
    ['both.md', 'conflict'],
    ['run.sh', e(C, '100755')],
  ]);
  assert.deepEqual(parseHead(`${A}\n${B}\n`), { commit: A, tree: B });
  assert.equal(parseHead(''), null);
});

test("the person's index: only entries still equal to the old HEAD move to the new HEAD", () => {
  type Row = [name: string, old: Entry | undefined, neu: Entry | undefined, real: Entry | 'conflict' | undefined, want: string | 'kept' | 'same'];
  const rows: Row[] = [
    ['modified', e(A), e(B), e(A), `100644 ${B} 0\tp\0`],
    ['new file, absent in both', undefined, e(B), undefined, `100644 ${B} 0\tp\0`],
    ['deleted', e(A), undefined, e(A), `0 ${'0'.repeat(40)}\tp\0`],
    ['mode change', e(A), e(A, '100755'), e(A), `100755 ${A} 0\tp\0`],
    ['staged by hand', e(A), e(B), e(C), 'kept'],
    ['new file staged by hand', undefined, e(B), e(C), 'kept'],
    ['removed from the index by hand (git rm --cached)', e(A), e(B), undefined, 'kept'],
    ['in conflict', e(A), e(B), 'conflict', 'kept'],
    ['already equal to the new HEAD', e(A), e(B), e(B), 'same'],
  ];
  for (const [name, o, n, r, want] of rows) {
    const u = realIndexUpdate(
      ['p'],
      new Map(o ? [['p', o]] : []),
      new Map(n ? [['p', n]] : []),
      new Map(r ? [['p', r]] : []),
    );
    if (want === 'kept') assert.deepEqual([u.stdin, u.kept], [null, ['p']], name);
    else if (want === 'same') assert.deepEqual([u.stdin, u.kept, u.updated], [null, [], []], name);
    else assert.deepEqual([u.stdin, u.updated], [want, ['p']], name);
  }
});

test('steps: paths only on stdin, the private index in the environment, CAS on update-ref', () => {
  const odd = ['-rf', 'new\nline.md', 'star*.md'];
  const up = updatePrivateStep('/r/.git/winnow/index', odd);
  assert.deepEqual(up.args, ['-c', 'core.splitIndex=true', 'update-index', '--add', '--remove', '-z', '--stdin']);
  assert.equal(up.stdin, '-rf\0new\nline.md\0star*.md\0');
  assert.equal(up.env?.GIT_INDEX_FILE, '/r/.git/winnow/index');
  assert.deepEqual(readTreeStep('/i', null).args.slice(-2), ['read-tree', '--empty']);
  // The compare-and-swap reads its update from stdin (started before the commit exists).
  assert.deepEqual(updateRefStep('winnow: x').args, ['update-ref', '-m', 'winnow: x', '--stdin', '-z']);
  assert.equal(updateRefInput(B, A), `update HEAD\0${B}\0${A}\0`);
  // Unborn branch: the ref must not exist yet.
  assert.equal(updateRefInput(B, null), `update HEAD\0${B}\0${'0'.repeat(40)}\0`);
  assert.deepEqual(commitTreeStep(C, null, '-m looks like an option').args, ['commit-tree', C, '-m', '-m looks like an option']);
  assert.deepEqual(commitTreeStep(C, A, 'm').args, ['commit-tree', C, '-p', A, '-m', 'm']);
  const chunks = chunkPaths(Array.from({ length: 3000 }, (_, i) => `dir/file-${i}.md`), 24 * 1024);
  assert.ok(chunks.length > 1);
  assert.equal(chunks.flat().length, 3000);
  for (const c of chunks) assert.ok(c.reduce((n, p) => n + Buffer.byteLength(p) + 1, 0) <= 24 * 1024);
});

test('journal: round trip; anything else is not a journal', () => {
  const j = { version: 1 as const, old: A, new: B, paths: ['a', 'new\nline'] };
  assert.deepEqual(parseJournal(formatJournal(j)), j);
  assert.deepEqual(parseJournal(formatJournal({ ...j, old: null })), { ...j, old: null });
  for (const bad of ['', '{', '{}', JSON.stringify({ ...j, new: 'HEAD' }), JSON.stringify({ ...j, version: 2 }), JSON.stringify({ ...j, paths: [1] })]) {
    assert.equal(parseJournal(bad), null, bad);
  }
});

test('work-tree counts from ls-files -c -d -t', () => {
  assert.deepEqual(parseWorktreeCounts('H a\0H b\0R b\0H c\0R c\0S d\0'), { tracked: 4, missing: 2 });
  assert.deepEqual(parseWorktreeCounts(''), { tracked: 0, missing: 0 });
});
