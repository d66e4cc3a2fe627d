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
