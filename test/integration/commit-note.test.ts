/**
 * The commit's note written from node and moved with HEAD in one `update-ref` transaction
 * (core/history/notes-tree.ts, adapters/loose-objects.ts, daemon/commit/move-head.ts), checked
 * against git's own reading of it: `git notes show`, `git fsck`, git's fan-out, and the cases
 * that go to `git notes add` instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { tempRepo, type TempRepo } from '../helpers/repo.js';
import { realCommitter } from '../helpers/committer.js';
import { mergeConfig } from '../../src/core/config/schema.js';
import { createGit } from '../../src/adapters/git.js';
import { stripspace } from '../../src/core/history/notes-tree.js';
import { moveHead } from '../../src/daemon/commit/move-head.js';
import { prestart } from '../../src/daemon/commit/prestart.js';
import { updateRefStep } from '../../src/core/commit/plumbing.js';
import { parseNote } from '../../src/core/history/note.js';

process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

const REF = 'refs/notes/winnow';
const config = mergeConfig({ health: { minFreeBytes: 0 } });

/** The message of the notes ref's last reflog entry: winnow's subject when the note moved with HEAD. */
const lastNotesMove = (r: TempRepo) => r.git('reflog', 'show', '-1', '--format=%gs', REF).trim();

async function commitOne(t: Parameters<typeof realCommitter>[0], r: TempRepo, path: string): Promise<string> {
  const { committer } = await realCommitter(t, { config, repo: r });
  await r.write(path, `${path} ${Math.random()}\n`);
  committer.submit([path]);
  await committer.onIdle();
  return r.git('rev-parse', 'HEAD').trim();
}

/** `n` notes added by git itself, on blobs, so that git lays the tree out (fan-out past ~100). */
function gitNotes(r: TempRepo, n: number): void {
  for (let i = 0; i < n; i++) {
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: r.root, input: `b${i}\n` }).toString().trim();
    r.git('notes', `--ref=${REF}`, 'add', '-m', `n${i}`, blob);
  }
}

test('stripspace matches `git stripspace` (what `git notes add -F` stores)', async () => {
  const texts = ['a\n', 'a', '\n\na  \n\n\n b\t\n\n', 'x \r\ny\n', '', '\n\n', '{"winnow":1}\n{"path":"a b.md"}\n'];
  for (const t of texts) assert.equal(stripspace(t), execFileSync('git', ['stripspace'], { input: t }).toString(), JSON.stringify(t));
});

test("the commit's note moves with HEAD in one transaction, and git reads it", async (t) => {
  const r = await tempRepo();
  const sha = await commitOne(t, r, 'a.md');
  const note = r.git('notes', `--ref=${REF}`, 'show', sha);
  assert.equal(parseNote(note)?.header.kind, 'commit');
  assert.match(lastNotesMove(r), /^winnow/, 'the notes ref moved in the commit\'s own update-ref');
  // Byte for byte what `git notes add -F -` stores for that text.
  execFileSync('git', ['notes', '--ref=refs/notes/check', 'add', '-F', '-', sha], { cwd: r.root, input: note });
  assert.equal(r.git('notes', `--ref=${REF}`, 'list', sha), r.git('notes', '--ref=refs/notes/check', 'list', sha));
  r.git('fsck', '--strict', '--no-dangling');
  const file = join(r.root, '.git/objects', r.git('notes', `--ref=${REF}`, 'list', sha).trim().replace(/^(..)/, '$1/'));
  assert.equal((await stat(file)).mode & 0o222, 0, 'objects are read-only, as git writes them');
});

test('a fanned-out notes tree gets the note at its fan-out; git finds every note', async (t) => {
  const r = await tempRepo();
  gitNotes(r, 150);
  assert.match(r.git('ls-tree', REF), /^040000 tree /m, 'git fanned the tree out');
  const sha = await commitOne(t, r, 'b.md');
  assert.match(lastNotesMove(r), /^winnow/);
  assert.ok(r.git('ls-tree', '-r', '--name-only', REF).split('\n').includes(`${sha.slice(0, 2)}/${sha.slice(2)}`));
  assert.equal(parseNote(r.git('notes', `--ref=${REF}`, 'show', sha))?.header.kind, 'commit');
  assert.equal(r.git('notes', `--ref=${REF}`, 'list').trim().split('\n').length, 151);
  r.git('fsck', '--strict', '--no-dangling');
});

test('a flat notes level at its limit goes to `git notes add`, which lays it out again', async (t) => {
  const r = await tempRepo();
  // 256 notes in one flat tree, as an older git or another tool might leave it.
  const lines: string[] = [];
  for (let i = 0; i < 256; i++) {
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: r.root, input: `b${i}\n` }).toString().trim();
    lines.push(`100644 blob ${blob}\t${blob}`);
  }
  const tree = execFileSync('git', ['mktree'], { cwd: r.root, input: lines.join('\n') + '\n' }).toString().trim();
  r.git('update-ref', REF, r.git('commit-tree', tree, '-m', 'flat').trim());
  const sha = await commitOne(t, r, 'c.md');
  assert.match(lastNotesMove(r), /^notes: /, 'git wrote this one');
  assert.equal(parseNote(r.git('notes', `--ref=${REF}`, 'show', sha))?.header.kind, 'commit');
  assert.match(r.git('ls-tree', REF), /^040000 tree /m);
});

test('core.sharedRepository: git writes the note (group permissions are its to set)', async (t) => {
  const r = await tempRepo();
  r.git('config', 'core.sharedRepository', 'group');
  const sha = await commitOne(t, r, 'd.md');
  assert.match(lastNotesMove(r), /^notes: /);
  assert.equal(parseNote(r.git('notes', `--ref=${REF}`, 'show', sha))?.header.kind, 'commit');
});

test('sha256: the note is written from node and git reads it', async (t) => {
  const r = await tempRepo({ objectFormat: 'sha256' });
  const sha = await commitOne(t, r, 'e.md');
  assert.equal(sha.length, 64);
  assert.match(lastNotesMove(r), /^winnow/);
  assert.equal(parseNote(r.git('notes', `--ref=${REF}`, 'show', sha))?.header.kind, 'commit');
  r.git('fsck', '--strict', '--no-dangling');
});

test('the notes ref moved since it was read: HEAD moves alone, the note is left to git', async (t) => {
  const r = await tempRepo();
  const git = await createGit(r.root, { gitDir: join(r.root, '.git'), stateDir: join(r.root, '.git/winnow'), timeoutMs: 20_000, hooks: false });
  t.after(() => git.close());
  const old = r.git('rev-parse', 'HEAD').trim();
  const sha = r.git('commit-tree', `${old}^{tree}`, '-p', old, '-m', 'next').trim();
  gitNotes(r, 1);
  const notesNow = r.git('rev-parse', REF).trim();
  const step = updateRefStep('winnow: next');
  // A note prepared from a notes ref that is not there any more (null: "must not exist").
  const noted = await moveHead(git, prestart(git, step), step, sha, old, { ref: REF, new: old, old: null });
  assert.equal(noted, false);
  assert.equal(r.git('rev-parse', 'HEAD').trim(), sha);
  assert.equal(r.git('rev-parse', REF).trim(), notesNow, 'the notes ref is untouched');
});
