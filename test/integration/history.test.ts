import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdir, rm, realpath, mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import { tempRepo, GIT_ENV, type TempRepo } from '../helpers/repo.js';

function capture(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), cwd, env: {}, isTTY: false };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

async function winnow(cwd: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = capture(cwd);
  const code = await main(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

/** A commit at a given time (seconds), optionally marked as winnow's with a note as the daemon writes it. */
function commitAt(repo: TempRepo, at: number, message: string, own: boolean, ...paths: string[]): string {
  execFileSync('git', ['add', '--', ...paths], { cwd: repo.root, env: GIT_ENV });
  const date = `@${at} +0000`;
  execFileSync('git', ['commit', '-q', '-m', message], { cwd: repo.root, env: { ...GIT_ENV, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
  const sha = repo.git('rev-parse', 'HEAD').trim();
  if (own) {
    const note = `{"winnow":1,"kind":"commit","at":${at * 1000}}\n` + paths.map((p) => JSON.stringify({ path: p, decision: 'ALLOW', layer: 3, rule: null, reason: 'content changed' })).join('\n') + '\n';
    execFileSync('git', ['notes', '--ref=refs/notes/winnow', 'add', '-F', '-', sha], { cwd: repo.root, env: GIT_ENV, input: note });
  }
  return sha;
}

const read = (repo: TempRepo, p: string) => readFile(join(repo.root, p), 'utf8');
const status = (repo: TempRepo) => repo.git('status', '--porcelain=v1', '--untracked-files=all');

test('restore round trip: back to a time, replaced content committed first, undone by another restore; staged paths refused', async (t) => {
  const repo = await tempRepo();
  t.after(() => repo.cleanup());
  const T = Math.floor(Date.now() / 1000) - 7200;
  await repo.write('notes.md', 'v1\n');
  await repo.write('dir/keep.md', 'keep v1\n');
  await repo.write('dir/gone.md', 'deleted later\n');
  const c1 = commitAt(repo, T, 'first', false, 'notes.md', 'dir/keep.md', 'dir/gone.md');
  await repo.write('notes.md', 'v2\n');
  await repo.write('dir/added.md', 'added later\n');
  repo.git('rm', '-q', 'dir/gone.md');
  commitAt(repo, T + 3600, 'second', true, 'notes.md', 'dir/added.md');
  // Uncommitted work on notes.md, and something the person staged by hand on another file.
  await repo.write('notes.md', 'v3 uncommitted\n');
  await repo.write('staged.md', 'staged by hand\n');
  repo.git('add', 'staged.md');
  const headBefore = repo.git('rev-parse', 'HEAD').trim();

  // Dry run: says what, changes nothing.
  let r = await winnow(repo.root, 'restore', 'notes.md', 'dir', '--at', new Date((T + 60) * 1000).toISOString(), '--dry-run');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /would commit first .*notes\.md/);
  assert.match(r.out, /write\s+dir\/gone\.md/);
  assert.match(r.out, /remove dir\/added\.md/);
  assert.equal(repo.git('rev-parse', 'HEAD').trim(), headBefore);
  assert.equal(await read(repo, 'notes.md'), 'v3 uncommitted\n');

  r = await winnow(repo.root, 'restore', 'notes.md', 'dir', '--at', new Date((T + 60) * 1000).toISOString(), '--json');
  assert.equal(r.code, 0, r.err);
  const res = JSON.parse(r.out) as { target: { sha: string }; before: { sha: string; paths: string[] }; restored: string; undoRev: string };
  assert.equal(res.target.sha, c1);
  assert.deepEqual(res.before.paths, ['notes.md']);
  // The content it replaced is in history, nothing lost.
  assert.equal(repo.git('show', `${res.before.sha}:notes.md`), 'v3 uncommitted\n');
  assert.equal(await read(repo, 'notes.md'), 'v1\n');
  assert.equal(await read(repo, 'dir/gone.md'), 'deleted later\n');
  assert.equal(existsSync(join(repo.root, 'dir/added.md')), false);
  assert.equal(repo.git('rev-parse', 'HEAD').trim(), res.restored);
  assert.equal(repo.git('log', '-1', '--format=%s'), `winnow: restore dir/added.md, dir/gone.md, notes.md to ${c1.slice(0, 10)} (${new Date(T * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')})\n`);
  // A forward change: old history is still there, the work tree is clean but for what the person staged.
  assert.equal(repo.git('merge-base', '--is-ancestor', headBefore, 'HEAD'), '');
  assert.equal(status(repo), 'A  staged.md\n');
  // The notes say why each commit was made.
  assert.match(repo.git('notes', '--ref=refs/notes/winnow', 'show', res.restored), /"kind":"restore"/);

  // Undo: restore the commit before the restore.
  r = await winnow(repo.root, 'restore', 'notes.md', 'dir', '--rev', res.undoRev);
  assert.equal(r.code, 0, r.err);
  assert.equal(await read(repo, 'notes.md'), 'v3 uncommitted\n');
  assert.equal(await read(repo, 'dir/added.md'), 'added later\n');
  assert.equal(existsSync(join(repo.root, 'dir/gone.md')), false);
  assert.equal(status(repo), 'A  staged.md\n');

  // Nothing to do: says so, commits nothing.
  const h = repo.git('rev-parse', 'HEAD');
  r = await winnow(repo.root, 'restore', 'notes.md', '--rev', 'HEAD');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /already as in/);
  assert.equal(repo.git('rev-parse', 'HEAD'), h);

  // A path the person staged is theirs: refused with the reason, nothing changed.
  await repo.write('notes.md', 'v4\n');
  repo.git('add', 'notes.md');
  r = await winnow(repo.root, 'restore', 'notes.md', '--rev', c1);
  assert.equal(r.code, 2);
  assert.match(r.err, /staged changes to notes\.md.*git restore --staged -- notes\.md.*Nothing was changed/);
  assert.equal(repo.git('rev-parse', 'HEAD'), h);
  assert.equal(await read(repo, 'notes.md'), 'v4\n');

  // Bad usage: exit 2.
  for (const argv of [['restore', 'notes.md'], ['restore', '--at', '1h'], ['restore', 'x', '--at', 'teatime'], ['restore', 'x', '--rev', 'nope'], ['restore', '../out', '--at', '1h']]) {
    r = await winnow(repo.root, ...argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
  }
  r = await winnow(repo.root, 'restore', 'never-existed.md', '--rev', c1);
  assert.equal(r.code, 2);
  assert.match(r.err, /neither in HEAD nor in/);
});

test('restore refuses to commit a secret it would replace', async (t) => {
  const repo = await tempRepo();
  t.after(() => repo.cleanup());
  await repo.write('cfg.txt', 'plain\n');
  const c1 = commitAt(repo, Math.floor(Date.now() / 1000) - 60, 'first', false, 'cfg.txt');
  await repo.write('cfg.txt', '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n');
  const r = await winnow(repo.root, 'restore', 'cfg.txt', '--rev', c1);
  assert.equal(r.code, 2);
  assert.match(r.err, /will not commit \(secret/);
  assert.match(await read(repo, 'cfg.txt'), /PRIVATE KEY/);
  assert.equal(repo.git('rev-parse', 'HEAD').trim(), c1);
});

test('squash folds winnow\'s unpushed commits; refuses pushed and foreign ones; index and work tree untouched', async (t) => {
  const repo = await tempRepo();
  t.after(() => repo.cleanup());
  const remote = await mkdtemp(join(await realpath(tmpdir()), 'winnow-remote-'));
  t.after(() => rm(remote, { recursive: true, force: true }));
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote], { env: GIT_ENV });
  repo.git('remote', 'add', 'origin', remote);
  const T = Math.floor(Date.now() / 1000) - 3600;
  await repo.write('a.md', '1\n');
  const pushed = commitAt(repo, T, 'winnow: a.md', true, 'a.md');
  repo.git('push', '-q', 'origin', 'main');
  await repo.write('a.md', '2\n');
  const w1 = commitAt(repo, T + 10, 'winnow: a.md', true, 'a.md');
  await repo.write('b.md', 'b\n');
  const w2 = commitAt(repo, T + 20, 'winnow: b.md', true, 'b.md');
  await repo.write('a.md', '3\nmore\n');
  commitAt(repo, T + 30, 'winnow: a.md', true, 'a.md');
  await repo.write('staged.md', 'mine\n');
  repo.git('add', 'staged.md');
  await repo.write('dirty.md', 'untracked\n');
  const tree = repo.git('rev-parse', 'HEAD^{tree}');
  const st = status(repo);

  // Over pushed history: refused, nothing changed.
  let r = await winnow(repo.root, 'squash', '--since', `${pushed}~1`, '-m', 'x');
  assert.equal(r.code, 2);
  assert.match(r.err, /already on the remote \(squashing it would rewrite pushed history\)/);
  r = await winnow(repo.root, 'squash', '--dry-run', '--json');
  assert.equal(r.code, 0, r.err);
  const plan = JSON.parse(r.out) as { folded: string[]; message: string };
  assert.equal(plan.folded.length, 3);
  assert.match(plan.message, /^winnow: a\.md, b\.md\n\na\.md \| \+2 -1\nb\.md \| \+1 -0\n$/);

  r = await winnow(repo.root, 'squash', '-m', 'Draft: a and b');
  assert.equal(r.code, 0, r.err);
  assert.equal(repo.git('log', '--format=%s', '-n', '3'), 'Draft: a and b\nwinnow: a.md\ninitial\n');
  assert.equal(repo.git('rev-parse', 'HEAD~1').trim(), pushed);
  assert.equal(repo.git('rev-parse', 'HEAD^{tree}'), tree);
  assert.equal(status(repo), st, 'index and work tree as they were');
  const note = repo.git('notes', '--ref=refs/notes/winnow', 'show', 'HEAD');
  assert.match(note, /"kind":"squash"/);
  assert.match(note, /"path":"a.md"/);
  assert.match(note, /"path":"b.md"/);
  assert.ok(note.includes(w1) && note.includes(w2), 'the note names the commits folded');

  // The person's squash made the commit theirs: another squash finds nothing of winnow's at the tip.
  r = await winnow(repo.root, 'squash', '-m', 'again');
  assert.equal(r.code, 2);
  assert.match(r.err, /is not winnow's commit/);

  // A person's commit between winnow's: --since over it is refused.
  await repo.write('c.md', 'c\n');
  const w4 = commitAt(repo, T + 40, 'winnow: c.md', true, 'c.md');
  await repo.write('d.md', 'd\n');
  commitAt(repo, T + 50, 'my own commit', false, 'd.md');
  await repo.write('e.md', 'e\n');
  commitAt(repo, T + 60, 'winnow: e.md', true, 'e.md');
  const head = repo.git('rev-parse', 'HEAD');
  r = await winnow(repo.root, 'squash', '--since', `${w4}~1`, '-m', 'x');
  assert.equal(r.code, 2);
  assert.match(r.err, /"my own commit" is not winnow's commit/);
  assert.equal(repo.git('rev-parse', 'HEAD'), head, 'nothing changed');
  // A time that reaches back over it: refused too; bad usage: exit 2.
  r = await winnow(repo.root, 'squash', '--since', new Date((T + 45) * 1000).toISOString());
  assert.equal(r.code, 2);
  for (const argv of [['squash', '--since', 'whenever'], ['squash', '-m', 'a', '--edit'], ['squash', '-m', ' ']]) {
    r = await winnow(repo.root, ...argv);
    assert.equal(r.code, 2, argv.join(' '));
  }
  assert.equal(repo.git('rev-parse', 'HEAD'), head);
});

test('squash --edit opens the person\'s editor (core.editor), not the GIT_EDITOR=true winnow\'s own git calls run with', async (t) => {
  const repo = await tempRepo();
  t.after(() => repo.cleanup());
  const saved = process.env.GIT_EDITOR;
  delete process.env.GIT_EDITOR;
  t.after(() => {
    if (saved !== undefined) process.env.GIT_EDITOR = saved;
  });
  const T = Math.floor(Date.now() / 1000) - 3600;
  await repo.write('a.md', '1\n');
  commitAt(repo, T, 'winnow: a.md', true, 'a.md');
  await repo.write('b.md', 'b\n');
  commitAt(repo, T + 10, 'winnow: b.md', true, 'b.md');
  repo.git('config', 'core.editor', `sh -c 'printf "Edited by the person\\n" > "$1"' -`);
  const r = await winnow(repo.root, 'squash', '--edit');
  assert.equal(r.code, 0, r.err);
  assert.equal(repo.git('log', '-1', '--format=%B').trim(), 'Edited by the person');
});

test('log and why read the notes; --help for every history command', async (t) => {
  const repo = await tempRepo();
  t.after(() => repo.cleanup());
  const T = Math.floor(Date.now() / 1000) - 600;
  await repo.write('docs/a.md', 'a\n');
  commitAt(repo, T, 'winnow: docs/a.md', true, 'docs/a.md');
  await repo.write('b.md', 'b\n');
  commitAt(repo, T + 60, 'by hand', false, 'b.md');
  let r = await winnow(repo.root, 'log', '--json');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { subject: string; paths: { path: string; reason: string }[] });
  assert.equal(lines.length, 1, 'only winnow\'s commits');
  assert.equal(lines[0]!.paths[0]!.path, 'docs/a.md');
  r = await winnow(join(repo.root, 'docs'), 'log', 'a.md');
  assert.match(r.out, /winnow: docs\/a\.md\n\s+ALLOW L3\s+docs\/a\.md\n\s+content changed/);
  r = await winnow(repo.root, 'log', 'b.md');
  assert.equal(r.out, '');
  r = await winnow(repo.root, 'log', '--since', '1s');
  assert.equal(r.out, '');
  r = await winnow(repo.root, 'why', 'docs/a.md', '--json');
  const why = JSON.parse(r.out) as { committed: { entry: { reason: string } }; live: unknown };
  assert.equal(why.committed.entry.reason, 'content changed');
  assert.equal(why.live, null);
  // The daemon's log supplies the live decision.
  await mkdir(join(repo.root, '.git/winnow'), { recursive: true });
  await repo.write('.git/winnow/winnow.log', JSON.stringify({ t: new Date().toISOString(), level: 'info', msg: 'decision', path: 'docs/a.md', decision: 'BLOCK', layer: 2, rule: null, reason: 'written by an autonomous process', evidence: [{ kind: 'fanotify', pid: 9, command: 'claude-autonomous', autonomous: true }] }) + '\n');
  r = await winnow(repo.root, 'why', 'docs/a.md');
  assert.match(r.out, /BLOCK L2\s+written by an autonomous process\n\s+evidence: fanotify: claude-autonomous \(pid 9\), autonomous/);
  assert.match(r.out, /last committed by winnow in [0-9a-f]{10}/);
  for (const cmd of ['log', 'why', 'restore', 'squash']) {
    r = await winnow(repo.root, cmd, '--help');
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`^Usage: winnow ${cmd}`));
  }
});
