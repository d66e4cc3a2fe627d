import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, unlink, truncate, rm, mkdtemp, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { tempRepo, GIT_ENV, type TempRepo } from '../helpers/repo.js';
import { BIN, DaemonProcess, fastConfig, statusUntil, winnow } from '../helpers/daemon.js';

async function withDaemon(config: string, fn: (repo: TempRepo, d: DaemonProcess) => Promise<void>, setup?: (repo: TempRepo) => Promise<void>): Promise<void> {
  const repo = await tempRepo();
  await setup?.(repo);
  const cfg = `${repo.root}.winnow.json`;
  await writeFile(cfg, config);
  const d = new DaemonProcess(repo.root, ['--config', cfg]);
  try {
    await d.ready();
    await fn(repo, d);
  } finally {
    await d.kill();
    await repo.cleanup();
    await unlink(cfg).catch(() => undefined);
  }
}

const MB = 1_000_000;

test('each commit carries its evidence in refs/notes/winnow and a body with line counts; notes are pushed on sync', { timeout: 90_000 }, async (t) => {
  const remote = await mkdtemp(join(await realpath(tmpdir()), 'winnow-remote-'));
  t.after(() => rm(remote, { recursive: true, force: true }));
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote], { env: GIT_ENV });
  await withDaemon(
    fastConfig({ remote: { name: 'origin', minIntervalMs: 3_600_000 } }),
    async (repo, d) => {
      const c = d.commitOf('notes.md');
      await repo.write('notes.md', 'one\ntwo\n');
      const { sha } = (await c) as unknown as { sha: string };
      const note = repo.git('notes', '--ref=refs/notes/winnow', 'show', sha);
      const lines = note.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.find((l) => l.winnow === 1)?.kind, 'commit');
      const entry = lines.find((l) => l.path === 'notes.md');
      assert.ok(entry, note);
      assert.equal(entry.decision, 'ALLOW');
      assert.equal(typeof entry.layer, 'number');
      assert.equal(typeof entry.reason, 'string');
      assert.equal(repo.git('log', '-1', '--format=%B', sha), 'winnow: notes.md\n\nnotes.md | +2 -0\n\n');
      // The person's notes ref and their index are not touched.
      assert.equal(repo.git('notes', 'list'), '');
      assert.equal(repo.git('status', '--porcelain'), '');
      const log = await winnow(['log', '--json'], repo.root);
      assert.equal(log.code, 0, log.stderr);
      assert.equal((JSON.parse(log.stdout.trim().split('\n')[0]!) as { sha: string }).sha, sha);
      const why = await winnow(['why', 'notes.md'], repo.root);
      assert.match(why.stdout, new RegExp(`last committed by winnow in ${sha.slice(0, 10)}`));

      const s = await winnow(['sync', '--json'], repo.root);
      assert.equal(s.code, 0, s.stdout + s.stderr);
      const remoteNotes = execFileSync('git', ['--git-dir', remote, 'notes', '--ref=refs/notes/winnow', 'show', sha], { env: GIT_ENV, encoding: 'utf8' });
      assert.equal(remoteNotes, note);
    },
    async (repo) => {
      repo.git('remote', 'add', 'origin', remote);
      repo.git('push', '-q', 'origin', 'main');
    },
  );
});

test('commit.notes false writes no notes', { timeout: 60_000 }, () =>
  withDaemon(fastConfig({ commit: { notes: false } }), async (repo, d) => {
    const c = d.commitOf('a.md');
    await repo.write('a.md', 'a\n');
    await c;
    assert.equal(repo.git('for-each-ref', 'refs/notes/'), '');
  }));

test('a 150 MB file is held and listed with its size; a small one beside it is committed', { timeout: 90_000 }, () =>
  withDaemon(fastConfig(), async (repo, d) => {
    const held = d.waitFor((l) => l.msg === 'held back' && l.path === 'big.iso');
    const small = d.commitOf('small.md');
    await repo.write('big.iso', '');
    await truncate(join(repo.root, 'big.iso'), 150 * MB); // sparse: instant, no disk used
    await repo.write('small.md', 'small\n');
    await small;
    const h = await held;
    assert.match(String(h.reason), /143\.1 MiB > 50\.0 MiB/);
    const st = await statusUntil(repo.root, (s) => (s.held ?? []).some((x: { path: string }) => x.path === 'big.iso'), 'big.iso held');
    assert.match(st.held.find((x: { path: string }) => x.path === 'big.iso').reason, /commit\.maxFileBytes/);
    assert.equal(repo.git('ls-tree', 'HEAD', '--', 'big.iso'), '');
  }));

// Broke when the commit stage began committing the scanned bytes (hash-object without --path, so no
// clean filter): a git-lfs-tracked file must be hashed with its filter. Skipped until that is fixed.
test('a large file git-lfs tracks is committed through LFS as a pointer', { timeout: 120_000 }, async (t) => {
  try {
    execFileSync('git', ['lfs', 'version'], { stdio: 'ignore' });
  } catch {
    t.skip('git-lfs is not installed (Debian: apt install git-lfs)');
    return;
  }
  await withDaemon(
    fastConfig(),
    async (repo, d) => {
      const c = d.commitOf('media/big.bin');
      await repo.write('media/big.bin', '');
      await truncate(join(repo.root, 'media/big.bin'), 150 * MB);
      await c;
      const blob = repo.git('cat-file', '-p', 'HEAD:media/big.bin');
      assert.match(blob, /^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:[0-9a-f]{64}\nsize 150000000\n$/);
    },
    async (repo) => {
      repo.git('lfs', 'install', '--local');
      repo.git('lfs', 'track', '*.bin');
      repo.git('add', '.gitattributes');
      repo.git('commit', '-q', '-m', 'lfs');
    },
  );
});

test('commit.messageCommand: its output is the message; a failing one falls back to the template and is logged', { timeout: 90_000 }, async () => {
  await withDaemon(fastConfig({ commit: { messageCommand: "sed -n 's|^+++ b/||p' | head -1 | sed 's/^/Edited /'" } }), async (repo, d) => {
    const c = d.commitOf('doc.md');
    await repo.write('doc.md', 'hello\n');
    const { sha } = (await c) as unknown as { sha: string };
    assert.equal(repo.git('log', '-1', '--format=%B', sha).trim(), 'Edited doc.md');
  });
  await withDaemon(fastConfig({ commit: { messageCommand: 'echo broken >&2; exit 3' } }), async (repo, d) => {
    const warned = d.waitFor((l) => l.msg === 'commit.messageCommand failed; the message template is used');
    const c = d.commitOf('doc.md');
    await repo.write('doc.md', 'hello\n');
    const { sha } = (await c) as unknown as { sha: string };
    assert.equal(repo.git('log', '-1', '--format=%s', sha).trim(), 'winnow: doc.md');
    assert.match(String((await warned).error), /exited with 3: broken/);
  });
});

test('restore with the daemon running: paused meanwhile, and the daemon does not commit the restored file again', { timeout: 90_000 }, () =>
  withDaemon(fastConfig(), async (repo, d) => {
    let c = d.commitOf('a.md');
    await repo.write('a.md', 'v1\n');
    const first = (await c) as unknown as { sha: string };
    // next(), not commitOf(): that would answer at once with v1's commit line, and the restore
    // would run while the daemon commits v2 (HEAD moved, the person's index not yet).
    c = d.next((l) => l.msg === 'commit' && Array.isArray(l.paths) && (l.paths as string[]).includes('a.md'));
    await repo.write('a.md', 'v2\n');
    await c;
    const r = await winnow(['restore', 'a.md', '--rev', first.sha], repo.root);
    assert.equal(r.code, 0, r.stderr);
    const head = repo.git('rev-parse', 'HEAD').trim();
    assert.equal(repo.git('show', 'HEAD:a.md'), 'v1\n');
    // A barrier: the next commit holds the cookie alone, so the restored file was not taken again.
    const cookie = d.commitOf('cookie.txt');
    await repo.write('cookie.txt', 'cookie\n');
    const k = (await cookie) as unknown as { sha: string; paths: string[] };
    assert.deepEqual(k.paths, ['cookie.txt']);
    assert.equal(repo.git('rev-parse', `${k.sha}~1`).trim(), head);
    assert.equal(repo.git('status', '--porcelain'), '');
  }));

// The restore once ran while the daemon's commit had moved HEAD but not yet the person's index, and
// refused a.md as staged. The daemon is frozen in that window (WINNOW_FAULT=stop:…) and let go once
// the restore says it waits for it; a restore that does not wait has refused a.md by then.
test('restore waits for the daemon to finish the commit in flight (HEAD moved, the index not yet) before it looks at the index', { timeout: 90_000 }, async () => {
  const repo = await tempRepo();
  await repo.write('a.md', 'v1\n');
  repo.git('add', 'a.md');
  repo.git('commit', '-q', '-m', 'v1');
  const v1 = repo.git('rev-parse', 'HEAD').trim();
  const cfg = `${repo.root}.winnow.json`;
  await writeFile(cfg, fastConfig());
  const d = new DaemonProcess(repo.root, ['--config', cfg], { WINNOW_FAULT: 'stop:after-ref-update' });
  try {
    await d.ready();
    const frozen = d.waitFor((l) => l.msg === 'fault' && l.stop === true);
    await repo.write('a.md', 'v2\n');
    await frozen;
    assert.match(repo.git('diff', '--cached', '--name-only'), /a\.md/, 'frozen between the ref update and the index update');
    const restore = run(['restore', 'a.md', '--rev', v1], repo.root, /waiting for the daemon/);
    const first = await Promise.race([restore.matched.then(() => 'waits'), restore.done.then(() => 'finished')]);
    process.kill(d.child.pid!, 'SIGCONT');
    const r = await restore.done;
    assert.equal(first, 'waits', `the restore did not wait for the daemon:\n${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /did not confirm/);
    assert.equal(repo.git('show', 'HEAD:a.md'), 'v1\n');
    assert.ok(d.lines.some((l) => l.msg === 'pause acknowledged'), 'the daemon said it was held');
  } finally {
    await d.kill();
    await repo.cleanup();
    await unlink(cfg).catch(() => undefined);
  }
});

/** The built CLI, with a promise for the first stderr text matching `line` (made before it runs). */
function run(args: string[], cwd: string, line: RegExp): { matched: Promise<void>; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: GIT_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let seen!: () => void;
  const matched = new Promise<void>((r) => (seen = r));
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString('utf8');
    if (line.test(stderr)) seen();
  });
  const done = new Promise<{ code: number | null; stderr: string }>((r) => child.on('close', (code) => r({ code, stderr })));
  return { matched, done };
}

test('remote.pullIntervalMs brings another machine\'s commits in while the workspace is quiet', { timeout: 90_000 }, async (t) => {
  const remote = await mkdtemp(join(await realpath(tmpdir()), 'winnow-remote-'));
  const other = await mkdtemp(join(await realpath(tmpdir()), 'winnow-other-'));
  t.after(() => Promise.all([rm(remote, { recursive: true, force: true }), rm(other, { recursive: true, force: true })]));
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote], { env: GIT_ENV });
  await withDaemon(
    fastConfig({ remote: { name: 'origin', minIntervalMs: 3_600_000, pullIntervalMs: 1_000 } }),
    async (repo, d) => {
      await d.waitFor((l) => l.msg === 'sync' && String(l.reason).includes('startup'));
      const git = (...a: string[]) => execFileSync('git', a, { cwd: other, env: GIT_ENV, encoding: 'utf8' });
      git('clone', '-q', remote, '.');
      await writeFile(join(other, 'from-laptop.md'), 'written elsewhere\n');
      git('add', 'from-laptop.md');
      git('commit', '-q', '-m', 'from the laptop');
      git('push', '-q', 'origin', 'main');
      const pulled = await d.next((l) => l.msg === 'sync' && l.ok === true && Number(l.pulled) >= 1);
      assert.match(String(pulled.reason), /periodic pull/);
      assert.equal(repo.git('log', '-1', '--format=%s'), 'from the laptop\n');
      assert.equal(repo.git('show', 'HEAD:from-laptop.md'), 'written elsewhere\n');
    },
    async (repo) => {
      repo.git('remote', 'add', 'origin', remote);
      repo.git('push', '-q', 'origin', 'main');
    },
  );
});

test('remote.squashBeforePush folds winnow\'s unpushed commits into one before the push', { timeout: 90_000 }, async (t) => {
  const remote = await mkdtemp(join(await realpath(tmpdir()), 'winnow-remote-'));
  t.after(() => rm(remote, { recursive: true, force: true }));
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote], { env: GIT_ENV });
  await withDaemon(
    fastConfig({ remote: { name: 'origin', minIntervalMs: 3_600_000, squashBeforePush: true } }),
    async (repo, d) => {
      // The start-up sync first: it commits and pushes what is pending when it runs (issue 11 case 14).
      await d.waitFor((l) => l.msg === 'sync');
      for (const name of ['a.md', 'b.md', 'c.md']) {
        const c = d.commitOf(name);
        await repo.write(name, `${name}\n`);
        await c;
      }
      const base = repo.git('rev-parse', 'origin/main').trim();
      assert.equal(repo.git('rev-list', '--count', `${base}..HEAD`).trim(), '3');
      const s = await winnow(['sync', '--json'], repo.root);
      assert.equal(s.code, 0, s.stdout + s.stderr);
      const remoteLog = execFileSync('git', ['--git-dir', remote, 'log', '--format=%B%x00', `${base}..main`], { env: GIT_ENV, encoding: 'utf8' });
      const messages = remoteLog.split('\0').map((m) => m.trim()).filter(Boolean);
      assert.deepEqual(messages, ['winnow: a.md, b.md, c.md\n\na.md | +1 -0\nb.md | +1 -0\nc.md | +1 -0']);
      assert.equal(repo.git('rev-parse', 'HEAD').trim(), execFileSync('git', ['--git-dir', remote, 'rev-parse', 'main'], { encoding: 'utf8' }).trim());
      assert.equal(repo.git('status', '--porcelain'), '');
    },
    async (repo) => {
      repo.git('remote', 'add', 'origin', remote);
      repo.git('push', '-q', 'origin', 'main');
    },
  );
});
