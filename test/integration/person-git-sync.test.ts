/**
 * Syncing in a repository a person works in (issue 11, cases 14, 19, 20): the real daemon, real git
 * and a bare remote on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GIT_ENV, type TempRepo } from '../helpers/repo.js';
import { winnow } from '../helpers/daemon.js';
import { withCitizen } from '../helpers/citizen.js';

/** A bare repository beside the workspace, wired as `origin` and holding its first commit. */
function addRemote(repo: TempRepo): string {
  const bare = `${repo.root}.remote.git`;
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare], { env: GIT_ENV });
  repo.git('remote', 'add', 'origin', bare);
  repo.git('push', '-q', 'origin', 'main');
  return bare;
}

const remoteGit = (bare: string, ...args: string[]) => execFileSync('git', args, { cwd: bare, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('case 14: `winnow sync` commits and pushes the pending change itself, not blocked by its own pause', { timeout: 90_000 }, async (t) => {
  let bare = '';
  await withCitizen(
    async (c) => {
      const { repo } = c;
      // The start-up sync is done before the change is made.
      await c.d.waitFor((l) => l.msg === 'sync');
      const accepted = c.d.waitFor((l) => l.msg === 'decision' && l.path === 'notes.md' && l.decision === 'ALLOW');
      await repo.write('notes.md', 'written just before the person asks for a sync\n');
      await accepted;
      // A 60 s settle window: the change is still pending when the sync is asked for.
      const r = await winnow(['sync', repo.root, '--json'], repo.root);
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      assert.equal((JSON.parse(r.stdout) as { ok: boolean }).ok, true, r.stdout);
      assert.equal(remoteGit(bare, 'show', 'main:notes.md'), 'written just before the person asks for a sync\n', 'the sync that was asked for pushed the pending change');
      assert.ok(!c.d.lines.some((l) => l.msg === 'commit waiting' && /sync with origin/.test(String(l.waiting))), 'no commit waited for the sync\'s own pause');
    },
    {
      config: {
        debounce: { defaultMs: 60_000, rules: [], maxMs: 60_000, maxWaitMs: 120_000 },
        remote: { name: 'origin', minIntervalMs: 3_600_000 },
      },
      setup: async (repo) => {
        bare = addRemote(repo);
        t.after(() => rm(bare, { recursive: true, force: true }));
      },
    },
  );
});

test('a person\'s pause holds syncs and outlives them; the waiting sync runs when they resume', { timeout: 90_000 }, async (t) => {
  let bare = '';
  await withCitizen(
    async (c) => {
      const { repo } = c;
      await c.d.waitFor((l) => l.msg === 'sync');
      const pause = await winnow(['pause', repo.root, '--for', '10m'], repo.root);
      assert.equal(pause.code, 0, pause.stderr);
      const pauseFile = join(repo.root, '.git', 'winnow', 'pause');
      const signal = await readFile(pauseFile, 'utf8');
      const accepted = c.d.waitFor((l) => l.msg === 'decision' && l.path === 'notes.md' && l.decision === 'ALLOW');
      await repo.write('notes.md', 'written while the person paused winnow\n');
      await accepted;

      const asked = await winnow(['sync', repo.root, '--json'], repo.root);
      const answer = JSON.parse(asked.stdout) as { ok: boolean; message: string };
      assert.equal(answer.ok, false, asked.stdout);
      assert.match(answer.message, /paused by pid/, 'the sync says it waits for the pause');
      assert.throws(() => remoteGit(bare, 'show', 'main:notes.md'), 'nothing was pushed while paused');
      assert.equal(await readFile(pauseFile, 'utf8'), signal, 'the person\'s pause signal is untouched');

      // Forced, the sync runs, but neither commits through their pause nor replaces it.
      const forced = await winnow(['sync', repo.root, '--force', '--json'], repo.root);
      assert.equal((JSON.parse(forced.stdout) as { ok: boolean }).ok, true, forced.stdout + forced.stderr);
      assert.equal(await readFile(pauseFile, 'utf8'), signal, 'a forced sync leaves the pause signal as the person wrote it');
      assert.throws(() => remoteGit(bare, 'show', 'main:notes.md'), 'the change stays uncommitted while paused');

      const resumedSync = c.d.waitFor((l) => l.msg === 'sync' && l.ok === true && /pause lifted/.test(String(l.reason)));
      const resume = await winnow(['resume', repo.root], repo.root);
      assert.equal(resume.code, 0, resume.stderr);
      await resumedSync;
      assert.equal(remoteGit(bare, 'show', 'main:notes.md'), 'written while the person paused winnow\n', 'the sync that waited ran once the pause was gone');
    },
    {
      config: { remote: { name: 'origin', minIntervalMs: 3_600_000 } },
      setup: async (repo) => {
        bare = addRemote(repo);
        t.after(() => rm(bare, { recursive: true, force: true }));
      },
    },
  );
});

test('case 19: git-lfs: a sync uploads the LFS objects of what it pushes (the pre-push upload --no-verify would skip)', { timeout: 90_000 }, async (t) => {
  try {
    execFileSync('git', ['lfs', 'version'], { stdio: 'ignore' });
  } catch {
    t.skip('git-lfs is not installed (Debian: apt install git-lfs)');
    return;
  }
  let bare = '';
  await withCitizen(
    async (c) => {
      const { repo } = c;
      await c.d.waitFor((l) => l.msg === 'sync');
      const landed = c.d.commitOf('media/clip.bin');
      await repo.write('media/clip.bin', 'bytes that belong in LFS storage, not in git\n');
      await landed;
      const pointer = repo.git('cat-file', '-p', 'HEAD:media/clip.bin');
      const oid = /^oid sha256:([0-9a-f]{64})$/m.exec(pointer)?.[1];
      assert.ok(oid, `committed as an LFS pointer:\n${pointer}`);
      const r = await winnow(['sync', repo.root, '--json'], repo.root);
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      assert.equal(remoteGit(bare, 'rev-parse', 'main').trim(), repo.git('rev-parse', 'HEAD').trim(), 'the commit is pushed');
      const stored = join(bare, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid);
      assert.equal(await readFile(stored, 'utf8').catch(() => 'missing'), 'bytes that belong in LFS storage, not in git\n', 'the remote has the LFS object the pointer names');
    },
    {
      config: { remote: { name: 'origin', minIntervalMs: 3_600_000 } },
      setup: async (repo) => {
        repo.git('lfs', 'install', '--local');
        repo.git('lfs', 'track', '*.bin');
        repo.git('add', '.gitattributes');
        repo.git('commit', '-q', '-m', 'lfs');
        bare = addRemote(repo);
        t.after(() => rm(bare, { recursive: true, force: true }));
      },
    },
  );
});

test('case 20: a sync snapshot leaves out secrets and files over commit.maxFileBytes, and leaves nothing of the work tree in the repository objects', { timeout: 90_000 }, async (t) => {
  let bare = '';
  await withCitizen(
    async (c) => {
      const { repo } = c;
      await c.d.waitFor((l) => l.msg === 'sync');
      const secret = 'API_TOKEN=s3cr3t-value-never-snapshotted\n';
      const big = 'x'.repeat(8192) + '\n';
      await repo.write('.env', secret);
      await repo.write('data/big.dat', big);
      const landed = c.d.commitOf('notes.md');
      await repo.write('notes.md', 'an ordinary change\n');
      await landed;
      // Blocked by winnow's rules (a log), not ignored by git: never committed, but the snapshot keeps it.
      await repo.write('session.log', 'an untracked log the snapshot keeps\n');
      const r = await winnow(['sync', repo.root, '--json'], repo.root);
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      const list = await winnow(['snapshot', 'list', repo.root, '--json'], repo.root);
      // One JSON object per line, newest first: the sync just asked for.
      const snaps = list.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)) as { id: string; worktreeCommit: string; leftOut?: { path: string; reason: string }[] }[];
      const snap = snaps[0]!;
      assert.ok(snap, list.stdout + list.stderr);
      assert.deepEqual((snap.leftOut ?? []).map((l) => l.path).sort(), ['.env', 'data/big.dat'], JSON.stringify(snap.leftOut));
      // The bundle holds the rest of the work tree, not those two.
      const scratch = `${repo.root}.scratch.git`;
      t.after(() => rm(scratch, { recursive: true, force: true }));
      execFileSync('git', ['init', '-q', '--bare', scratch], { env: GIT_ENV });
      const bundle = join(repo.root, '.git', 'winnow', 'snapshots', snap.id, 'repo.bundle');
      remoteGit(scratch, 'fetch', '-q', bundle, `refs/winnow/snapshot/${snap.id}:refs/snap`);
      const files = remoteGit(scratch, 'ls-tree', '-r', '--name-only', 'refs/snap').split('\n').filter(Boolean);
      assert.ok(files.includes('session.log') && files.includes('notes.md'), files.join(', '));
      assert.ok(!files.includes('.env') && !files.includes('data/big.dat'), files.join(', '));
      // Nothing of the snapshot's work tree was written to the repository's objects.
      for (const content of [secret, big, 'an untracked log the snapshot keeps\n']) {
        const oid = execFileSync('git', ['hash-object', '--stdin'], { input: content, env: GIT_ENV, cwd: repo.root }).toString().trim();
        assert.throws(() => repo.git('cat-file', '-e', oid), `${JSON.stringify(content.slice(0, 20))} is not in .git/objects`);
      }
    },
    {
      config: { remote: { name: 'origin', minIntervalMs: 3_600_000 }, commit: { maxFileBytes: 4096 } },
      setup: async (repo) => {
        bare = addRemote(repo);
        t.after(() => rm(bare, { recursive: true, force: true }));
      },
    },
  );
});
