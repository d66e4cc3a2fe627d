/**
 * The person's index patched in-process (core/commit/index-patch.ts through adapters/index-file.ts)
 * is byte for byte the file `git update-index -z --index-info` writes for the same replacements,
 * for every index version and extension it handles; where it does not handle the file or the
 * change it changes nothing and says so, and git does it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync, openSync, closeSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { IndexReader, prepareIndexEntries, replaceIndexEntries } from '../../src/adapters/index-file.js';
import { readIndexForPatch, writePatchedIndex } from '../../src/core/commit/index-patch.js';
import type { Entry } from '../../src/core/commit/plumbing.js';
import { tempRepo, GIT_ENV, type TempRepo } from '../helpers/repo.js';

const PAST = Date.now() / 1000 - 3600;

/** Files written an hour ago (no entry is racily clean), added and committed, with a cache tree and an untracked cache. */
async function repoWith(paths: string[], o: { objectFormat?: 'sha1' | 'sha256'; config?: [string, string][] } = {}): Promise<TempRepo> {
  const repo = await tempRepo({ objectFormat: o.objectFormat });
  for (const [k, v] of o.config ?? []) repo.git('config', k, v);
  repo.git('config', 'core.untrackedCache', 'true');
  for (const p of paths) await repo.write(p, `${p}\n`);
  await repo.write('untracked/u.txt', 'u\n');
  for (const p of [...paths, 'README.md', 'untracked/u.txt']) utimesSync(join(repo.root, p), PAST, PAST);
  repo.git('add', '--', ...paths);
  repo.git('commit', '-q', '-m', 'base');
  repo.git('status', '--porcelain');
  return repo;
}

function blob(repo: TempRepo, text: string): string {
  return execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo.root, env: GIT_ENV, input: text, encoding: 'utf8' }).trim();
}

/** Extension signatures of an index file, in order (to show the case covers what it says). */
function extensions(file: string, hashLen: number): string[] {
  const b = readFileSync(file);
  const v = b.readUInt32BE(4);
  let o = 12;
  for (let i = b.readUInt32BE(8); i > 0; i--) {
    const fl = b.readUInt16BE(o + 40 + hashLen);
    let at = o + 42 + hashLen + (fl & 0x4000 ? 2 : 0);
    if (v === 4) {
      while (b[at]! & 0x80) at++;
      o = b.indexOf(0, at + 1) + 1;
    } else o += (at - o + (fl & 0xfff) + 8) & ~7;
  }
  const out: string[] = [];
  for (; o < b.length - hashLen; o += 8 + b.readUInt32BE(o + 4)) out.push(b.toString('latin1', o, o + 4));
  return out;
}

/**
 * Ours on the index, then git's on the same bytes and mtime: both files. `known`: ours from a
 * reader that scanned the version and checked its hash before, as the daemon's does while a batch
 * settles (the patch then neither walks the entries nor hashes the old file).
 */
async function bothWays(repo: TempRepo, changes: Map<string, Entry>, known = false): Promise<{ ours: Buffer; git: Buffer; done: boolean }> {
  const file = join(repo.root, '.git', 'index');
  const before = readFileSync(file);
  const mtime = statSync(file).mtime;
  const want = new Set(changes.keys());
  let reader: IndexReader | undefined;
  if (known) {
    reader = new IndexReader(file);
    reader.scan(want);
    reader.verify();
    assert.equal(reader.known(statSync(file, { bigint: true }), want)?.verified, true, 'the reader knows this version, hash checked');
  }
  const done = await replaceIndexEntries(file, join(repo.root, '.git', 'index.next'), [...want], () => changes, reader);
  const ours = readFileSync(file);
  writeFileSync(file, before);
  utimesSync(file, mtime, mtime);
  const stdin = [...changes].map(([p, e]) => `${e.mode} ${e.oid} 0\t${p}\0`).join('');
  execFileSync('git', ['update-index', '-z', '--index-info'], { cwd: repo.root, env: GIT_ENV, input: stdin });
  return { ours, git: readFileSync(file), done };
}

const cases: { name: string; paths: string[]; objectFormat?: 'sha1' | 'sha256'; config?: [string, string][]; prepare?: (r: TempRepo) => void; exts: string[]; change: string[] }[] = [
  { name: 'version 2, cache tree and untracked cache', paths: ['a.md', 'dir/b.md', 'dir/sub/c.txt', 'z.txt'], exts: ['TREE', 'UNTR'], change: ['dir/sub/c.txt', 'a.md'] },
  {
    name: 'version 3: an intent-to-add and a skip-worktree entry beside the changed ones',
    paths: ['a.md', 'dir/b.md', 'sparse.md'],
    prepare: (r) => {
      writeFileSync(join(r.root, 'ita.md'), 'x\n');
      r.git('add', '-N', 'ita.md');
      r.git('update-index', '--skip-worktree', 'sparse.md');
    },
    exts: ['TREE', 'UNTR'],
    change: ['dir/b.md'],
  },
  {
    name: 'version 4: prefix-compressed names',
    paths: ['docs/a.md', 'docs/ab.md', 'docs/abc/d.md', 'src/x.ts', 'src/y.ts'],
    prepare: (r) => r.git('update-index', '--index-version', '4'),
    exts: ['TREE', 'UNTR'],
    change: ['docs/ab.md', 'src/y.ts'],
  },
  {
    name: 'end-of-entries and offset-table extensions (index.threads)',
    paths: Array.from({ length: 1200 }, (_, i) => `d${i % 7}/f${i}.txt`),
    config: [
      ['index.threads', '2'],
      ['index.recordEndOfIndexEntries', 'true'],
      ['index.recordOffsetTable', 'true'],
    ],
    exts: ['IEOT', 'TREE', 'UNTR', 'EOIE'],
    change: ['d3/f10.txt', 'd2/f1199.txt'],
  },
  { name: 'SHA-256 repository', paths: ['a.md', 'dir/b.md'], objectFormat: 'sha256', exts: ['TREE', 'UNTR'], change: ['dir/b.md'] },
  {
    name: 'an assume-unchanged entry loses the bit, as with git',
    paths: ['a.md', 'b.md'],
    prepare: (r) => r.git('update-index', '--assume-unchanged', 'b.md'),
    exts: ['TREE', 'UNTR'],
    change: ['b.md'],
  },
];

for (const c of cases) {
  test(`in-process index update equals git's: ${c.name}`, { timeout: 60_000 }, async () => {
    const repo = await repoWith(c.paths, c);
    try {
      c.prepare?.(repo);
      const hashLen = c.objectFormat === 'sha256' ? 32 : 20;
      assert.deepEqual(extensions(join(repo.root, '.git', 'index'), hashLen), c.exts);
      const changes = new Map<string, Entry>(c.change.map((p, i) => [p, { mode: i ? '100644' : '100755', oid: blob(repo, `new ${p}\n`) }]));
      for (const known of [false, true]) {
        const { ours, git, done } = await bothWays(repo, changes, known);
        assert.equal(done, true);
        assert.ok(ours.equals(git), `ours (${ours.length} bytes${known ? ', from a known scan' : ''}) differs from git's (${git.length} bytes)`);
      }
      execFileSync('git', ['fsck', '--no-dangling', '--cache'], { cwd: repo.root, env: GIT_ENV });
    } finally {
      await repo.cleanup();
    }
  });
}

test('what it does not handle changes nothing and answers false: an addition, intent-to-add, a conflict, a split index', { timeout: 60_000 }, async () => {
  const repo = await repoWith(['a.md', 'b.md', 'c.md']);
  try {
    const file = join(repo.root, '.git', 'index');
    const scratch = join(repo.root, '.git', 'index.next');
    const e = (p: string): Map<string, Entry> => new Map([[p, { mode: '100644', oid: blob(repo, `x ${p}\n`) }]]);
    const refuses = async (why: string, changes: Map<string, Entry>) => {
      const before = readFileSync(file);
      assert.equal(await replaceIndexEntries(file, scratch, [...changes.keys()], () => changes), false, why);
      assert.ok(readFileSync(file).equals(before), `${why}: the index is unchanged`);
    };
    await refuses('a path not in the index', e('new.md'));
    await repo.write('ita.md', 'i\n');
    repo.git('add', '-N', 'ita.md');
    await refuses('an intent-to-add entry', e('ita.md'));
    const conflict = ['000000', '100644', '100644', '100644'].slice(1).map((m, i) => `${m} ${blob(repo, `s${i}\n`)} ${i + 1}\tb.md\0`).join('');
    execFileSync('git', ['update-index', '-z', '--index-info'], { cwd: repo.root, env: GIT_ENV, input: `0 ${'0'.repeat(40)}\tb.md\0${conflict}` });
    await refuses('a path in conflict', e('b.md'));
    repo.git('rm', '-q', '--cached', 'b.md');
    repo.git('update-index', '--split-index');
    await refuses('a split index', e('a.md'));
  } finally {
    await repo.cleanup();
  }
});

test('index.lock held by someone: false, nothing changed, their lock left in place', { timeout: 60_000 }, async () => {
  const repo = await repoWith(['a.md']);
  try {
    const file = join(repo.root, '.git', 'index');
    const before = readFileSync(file);
    closeSync(openSync(`${file}.lock`, 'wx'));
    const changes = new Map([['a.md', { mode: '100644', oid: blob(repo, 'x\n') }]]);
    assert.equal(await replaceIndexEntries(file, join(repo.root, '.git', 'index.next'), ['a.md'], () => changes), false);
    assert.ok(readFileSync(file).equals(before));
    assert.ok(statSync(`${file}.lock`).isFile(), 'their lock is still there');
    unlinkSync(`${file}.lock`);
  } finally {
    await repo.cleanup();
  }
});

test("the person's git writes the index between the read and the lock: false, and their write stays", { timeout: 60_000 }, async () => {
  const repo = await repoWith(['a.md', 'b.md']);
  try {
    const file = join(repo.root, '.git', 'index');
    const changes = new Map([['a.md', { mode: '100644', oid: blob(repo, 'x\n') }]]);
    const done = await replaceIndexEntries(file, join(repo.root, '.git', 'index.next'), ['a.md'], () => {
      repo.git('update-index', '--chmod=+x', 'b.md');
      return changes;
    });
    assert.equal(done, false);
    assert.match(repo.git('ls-files', '-s', 'b.md'), /^100755 /, 'their change is in the index');
  } finally {
    await repo.cleanup();
  }
});

test('an entry racily clean in the old index is smudged, so a same-size edit in its second is still seen', { timeout: 60_000 }, async () => {
  const repo = await repoWith(['a.md', 'racy.md']);
  try {
    const file = join(repo.root, '.git', 'index');
    // racy.md changes after git recorded it, with the same size and mtime, in the index's own second:
    // only git's content check (the racy rule) sees it.
    const abs = join(repo.root, 'racy.md');
    writeFileSync(abs, 'RACY.MD\n');
    utimesSync(abs, PAST, PAST);
    utimesSync(file, PAST, PAST);
    const status = () => execFileSync('git', ['status', '--porcelain'], { cwd: repo.root, env: { ...GIT_ENV, GIT_OPTIONAL_LOCKS: '0' }, encoding: 'utf8' });
    assert.match(status(), /^ M racy\.md$/m);
    const changes = new Map([['a.md', { mode: '100644', oid: blob(repo, 'a.md\n') }]]);
    assert.equal(await replaceIndexEntries(file, join(repo.root, '.git', 'index.next'), ['a.md'], () => changes), true);
    assert.ok(statSync(file).mtimeMs > PAST * 1000 + 60_000, 'the new index is not from the racy second');
    assert.match(status(), /^ M racy\.md$/m, 'the edit is still seen');
  } finally {
    await repo.cleanup();
  }
});

test('prepared beside the commit: discarded, it leaves nothing; committed after the index changed, it changes nothing', { timeout: 60_000 }, async () => {
  const repo = await repoWith(['a.md', 'b.md']);
  try {
    const file = join(repo.root, '.git', 'index');
    const scratch = join(repo.root, '.git', 'index.next');
    const changes = new Map([['a.md', { mode: '100644', oid: blob(repo, 'x\n') }]]);
    const before = readFileSync(file);
    const dropped = await prepareIndexEntries(file, scratch, ['a.md'], () => changes);
    assert.ok(dropped && existsSync(scratch), 'written beside');
    await dropped.discard();
    assert.equal(existsSync(scratch), false);
    assert.ok(readFileSync(file).equals(before));

    const late = await prepareIndexEntries(file, scratch, ['a.md'], () => changes);
    repo.git('update-index', '--chmod=+x', 'b.md'); // the person's git, after the read
    assert.equal(await late!.commit(), false);
    assert.equal(existsSync(scratch), false, 'nothing left beside');
    assert.match(repo.git('ls-files', '-s', 'b.md'), /^100755 /, 'their change is in the index');
    assert.doesNotMatch(repo.git('ls-files', '-s', 'a.md'), new RegExp(changes.get('a.md')!.oid));
  } finally {
    await repo.cleanup();
  }
});

test('read and written through windows whose edges cut a changed entry: the same bytes as git', { timeout: 60_000 }, async () => {
  const paths = Array.from({ length: 1200 }, (_, i) => `d${i % 7}/f${i}.txt`);
  const repo = await repoWith(paths);
  try {
    const file = join(repo.root, '.git', 'index');
    const changes = new Map<string, Entry>(['d6/f1000.txt', 'd1/f1.txt'].map((p) => [p, { mode: '100644', oid: blob(repo, `w ${p}\n`) }]));
    const buf = readFileSync(file);
    const hasher = (a: 'sha1' | 'sha256') => createHash(a);
    const mtime = Math.floor(statSync(file).mtimeMs / 1000);
    const whole = readIndexForPatch((p, l) => buf.subarray(p, p + l), buf.length, new Set(changes.keys()), mtime, hasher)!;
    // A window that ends 20 bytes into the later changed entry's stat data.
    const cut = Math.max(...[...whole.at.targets.values()].map((t) => t.offset)) + 20;
    assert.ok(cut > 4224 && cut < buf.length - 1000, `a window of ${cut} bytes is a real window here`);
    const read = (p: number, l: number) => buf.subarray(p, p + Math.min(l, cut));
    const r = readIndexForPatch(read, buf.length, new Set(changes.keys()), mtime, hasher)!;
    const out: Buffer[] = [];
    assert.equal(writePatchedIndex(read, r, changes, hasher, (c) => out.push(Buffer.from(c))), true);
    const { git } = await bothWays(repo, changes);
    assert.ok(Buffer.concat(out).equals(git), 'the same bytes as git update-index --index-info');
  } finally {
    await repo.cleanup();
  }
});

test("an index whose bytes do not match its trailing hash: the reader's check does not pass it, and the patch leaves it to git", { timeout: 60_000 }, async () => {
  const repo = await repoWith(['a.md', 'b.md']);
  try {
    const file = join(repo.root, '.git', 'index');
    const bad = readFileSync(file);
    bad.writeUInt8(bad.readUInt8(16) ^ 0xff, 16); // the first entry's ctime: still parses, no longer the hashed bytes
    writeFileSync(file, bad);
    const reader = new IndexReader(file);
    const want = new Set(['b.md']);
    assert.ok(reader.scan(want)?.layout, 'it parses');
    reader.verify();
    assert.equal(reader.known(statSync(file, { bigint: true }), want)?.verified, false);
    const changes = new Map([['b.md', { mode: '100644', oid: blob(repo, 'x\n') }]]);
    assert.equal(await replaceIndexEntries(file, join(repo.root, '.git', 'index.next'), ['b.md'], () => changes, reader), false);
    assert.ok(readFileSync(file).equals(bad), 'unchanged');
  } finally {
    await repo.cleanup();
  }
});

test('a link to the old index left by a crash (index.next.prev) is replaced, and removed after the swap', { timeout: 60_000 }, async () => {
  const repo = await repoWith(['a.md']);
  try {
    const file = join(repo.root, '.git', 'index');
    const scratch = join(repo.root, '.git', 'index.next');
    writeFileSync(`${scratch}.prev`, 'left by a crash');
    const changes = new Map([['a.md', { mode: '100644', oid: blob(repo, 'x\n') }]]);
    assert.equal(await replaceIndexEntries(file, scratch, ['a.md'], () => changes), true);
    assert.match(repo.git('ls-files', '-s', 'a.md'), new RegExp(changes.get('a.md')!.oid));
    // Its removal is not awaited by the swap: wait for the state, a turn of the loop at a time.
    for (let turns = 0; turns < 10_000 && existsSync(`${scratch}.prev`); turns++) await new Promise((r) => setImmediate(r));
    assert.equal(existsSync(`${scratch}.prev`), false, 'no second name of any index is left behind');
  } finally {
    await repo.cleanup();
  }
});
