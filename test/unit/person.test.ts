import { test } from 'node:test';
import assert from 'node:assert/strict';
import { personsPaths, personGitCommand, gitSubcommand, type GitProcess } from '../../src/core/commit/person.js';
import { parseLsFiles, realIndexUpdate, type Entry } from '../../src/core/commit/plumbing.js';
import { movePartners, movesToHold } from '../../src/core/settle/moves.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const EMPTY = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';
const e = (oid: string, mode = '100644'): Entry => ({ mode, oid });
const dbg = (flags: string) => `  ctime: 0:0\n  mtime: 0:0\n  dev: 0\tino: 0\n  uid: 0\tgid: 0\n  size: 0\tflags: ${flags}\n`;

test('ls-files -s -v --debug: tags and flags give skip-worktree, assume-unchanged and intent-to-add', () => {
  const out =
    `H 100644 ${A} 0\tplain.md\0${dbg('0')}` +
    `S 100644 ${A} 0\tsparse/x.md\0${dbg('40000000')}` +
    `h 100644 ${A} 0\tassumed.md\0${dbg('8000')}` +
    `H 100644 ${EMPTY} 0\tnew\nline.md\0${dbg('20004000')}` +
    `M 100644 ${A} 1\tboth.md\0${dbg('0')}M 100644 ${B} 2\tboth.md\0${dbg('0')}`;
  assert.deepEqual([...parseLsFiles(out)], [
    ['plain.md', e(A)],
    ['sparse/x.md', { ...e(A), skipWorktree: true }],
    ['assumed.md', { ...e(A), assumeUnchanged: true }],
    ['new\nline.md', { ...e(EMPTY), intentToAdd: true }],
    ['both.md', 'conflict'],
  ]);
});

test("case 4: an intent-to-add entry takes winnow's commit (no empty placeholder left to delete the file)", () => {
  const u = realIndexUpdate(['p'], new Map(), new Map([['p', e(B)]]), new Map([['p', { ...e(EMPTY), intentToAdd: true }]]));
  assert.deepEqual([u.stdin, u.updated, u.kept], [`100644 ${B} 0\tp\0`, ['p'], []]);
});

test("personsPaths: what is staged by hand is the person's; sparse and assume-unchanged entries are nobody's change", () => {
  type Row = [name: string, head: Entry | undefined, index: Parameters<typeof personsPaths>[2] extends ReadonlyMap<string, infer V> ? V | undefined : never, want: 'commit' | 'staged' | 'hidden'];
  const rows: Row[] = [
    ['unstaged edit (index = HEAD)', e(A), e(A), 'commit'],
    ['new untracked file', undefined, undefined, 'commit'],
    ['git add -N', undefined, { ...e(EMPTY), intentToAdd: true }, 'commit'],
    ['new file staged by hand', undefined, e(B), 'staged'],
    ['edit staged by hand (v2 staged, v3 on disk)', e(A), e(B), 'staged'],
    ['mode staged by hand', e(A), e(A, '100755'), 'staged'],
    ['git rm --cached', e(A), undefined, 'staged'],
    ['conflict', e(A), 'conflict', 'staged'],
    ['sparse checkout', e(A), { ...e(A), skipWorktree: true }, 'hidden'],
    ['assume-unchanged', e(A), { ...e(A), assumeUnchanged: true }, 'hidden'],
  ];
  for (const [name, h, r, want] of rows) {
    const got = personsPaths(['p'], new Map(h ? [['p', h]] : []), new Map(r ? [['p', r]] : []));
    const is = got.hidden.includes('p') ? 'hidden' : got.staged.some((s) => s.path === 'p') ? 'staged' : 'commit';
    assert.equal(is, want, name);
  }
});

test("personGitCommand: a writing git command in this repo that is not winnow's own", () => {
  const root = '/w/repo';
  const gitDir = '/w/repo/.git';
  const self = 100;
  const p = (pid: number, ppid: number, argv: string[], cwd: string | null, gitDirEnv: string | null = null): GitProcess => ({ pid, ppid, argv, cwd, gitDirEnv });
  const parents = new Map([[201, 100], [300, 1], [301, 300]]);
  assert.equal(gitSubcommand(['git', '-C', 'x', '-c', 'a=b', '--no-pager', 'commit', '-m', 'm']), 'commit');
  const cases: [string, GitProcess[], number | null][] = [
    ['commit in the work tree', [p(301, 300, ['git', 'commit'], '/w/repo/src')], 301],
    ["winnow's own git child", [p(201, 100, ['git', 'update-ref', 'HEAD'], root)], null],
    ["a grandchild of winnow's", [p(202, 201, ['git', 'commit'], root)], null],
    ['a pager (git log) is read-only', [p(301, 300, ['git', 'log'], root)], null],
    ["a background gc's repack (git gc --auto after a large commit)", [p(301, 1, ['/usr/lib/git-core/git', 'repack', '-d', '-l', '-q', '--no-write-bitmap-index'], root)], null],
    ["a detached gc's `reflog expire` (after winnow's own auto maintenance)", [p(301, 1, ['git', 'reflog', 'expire', '--all'], root)], null],
    ['another repository', [p(301, 300, ['git', 'commit'], '/w/other')], null],
    ['a sibling whose name starts the same', [p(301, 300, ['git', 'commit'], '/w/repo2')], null],
    ['GIT_DIR pointing here from elsewhere', [p(301, 300, ['git', 'rebase', '-i'], '/tmp', gitDir)], 301],
    ['--git-dir pointing elsewhere from inside', [p(301, 300, ['git', '--git-dir=/w/other/.git', 'commit'], root)], null],
    ['--git-dir relative, here', [p(301, 300, ['git', '--git-dir', '.git', 'merge', 'x'], root)], 301],
    ['cwd unreadable (another user)', [p(301, 300, ['git', 'commit'], null)], null],
  ];
  for (const [name, procs, want] of cases) assert.equal(personGitCommand(procs, self, root, gitDir, parents)?.pid ?? null, want, name);
});

test('movePartners: a move lands in one commit (issue 11 case 7)', () => {
  const onDisk = new Set(['new/a.md', 'new/b.md', 'x/a.md']);
  const present = (p: string) => onDisk.has(p);
  assert.deepEqual(movePartners(['new/a.md', 'new/b.md'], ['old/a.md', 'old/b.md', 'old/c.md', 'x/a.md'], present), ['old/a.md', 'old/b.md']);
  assert.deepEqual(movePartners(['old/a.md'], ['new/a.md', 'y.md'], present), ['new/a.md'], 'the deletion due first takes the new file along');
  assert.deepEqual(movePartners(['x/a.md'], ['new/a.md'], present), [], 'two present files are not a move');
  assert.deepEqual(movePartners([], ['a'], present), []);
});

test('movesToHold: a due file waits for the latest of its partners still settling; two present files are no move', () => {
  const onDisk = new Set(['new/a.md', 'new/b.md', 'x/a.md']);
  const present = (p: string) => onDisk.has(p);
  const due = (at: number) => ({ dueAt: at });
  const pending = new Map([['old/a.md', due(5_000)], ['deep/old/a.md', due(7_000)], ['x/a.md', due(9_000)], ['old/c.md', due(6_000)]]);
  assert.deepEqual([...movesToHold(['new/a.md', 'new/b.md'], pending, present)], [['new/a.md', 7_000]]);
  assert.deepEqual([...movesToHold(['x/a.md'], new Map([['new/a.md', due(9_000)]]), present)], []);
  assert.deepEqual([...movesToHold(['gone/a.md'], new Map([['new/a.md', due(3_000)]]), present)], [['gone/a.md', 3_000]], 'a deletion due first waits for the new side too');
  assert.deepEqual([...movesToHold([], pending, present)], []);
});
