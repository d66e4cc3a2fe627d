import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile, mkdir, mkdtemp, realpath, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempRepo } from '../helpers/repo.js';
import { DaemonProcess, winnow, fastConfig, statusUntil } from '../helpers/daemon.js';

test('--help and unknown commands', { timeout: 60_000 }, async () => {
  const help = await winnow(['--help'], tmpdir());
  assert.equal(help.code, 0);
  assert.match(help.stdout, /filter/);
  const startHelp = await winnow(['start', '--help'], tmpdir());
  assert.equal(startHelp.code, 0);
  assert.match(startHelp.stdout, /--daemon/);
  const bad = await winnow(['frobnicate'], tmpdir());
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});

test('start outside a work tree is a clear error with exit 2', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-nogit-'));
  const r = await winnow(['start', dir], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not inside a git work tree/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('a WINNOW_WATCHER winnow does not have is named, exits 2 and makes nothing', { timeout: 60_000 }, async () => {
  const repo = await tempRepo();
  try {
    const r = await winnow(['start', repo.root], repo.root, { WINNOW_WATCHER: 'watchman' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /WINNOW_WATCHER/);
    assert.match(r.stderr, /"watchman"/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(existsSync(join(repo.root, '.git', 'winnow')), false, 'no state dir was made');
  } finally {
    await repo.cleanup();
  }
});

test('a bad config names the file and key, exits 2 and changes nothing', { timeout: 60_000 }, async () => {
  const repo = await tempRepo();
  try {
    await repo.write('.winnow.json', JSON.stringify({ debounce: { defaultMs: 'soon' } }));
    const r = await winnow(['start', repo.root], repo.root);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\.winnow\.json/);
    assert.match(r.stderr, /debounce\.defaultMs/);
    const unknown = await winnow(['rules', 'check'], repo.root, {});
    assert.equal(unknown.code, 2);
    await repo.write('.winnow.json', JSON.stringify({ colour: 'blue' }));
    const r2 = await winnow(['start', repo.root], repo.root);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /colour/);
    assert.equal(repo.git('status', '--porcelain', '--untracked-files=all').trim(), '?? .winnow.json');
    assert.equal(repo.git('rev-list', '--count', 'HEAD').trim(), '1');
  } finally {
    await repo.cleanup();
  }
});

test('start commits a person\'s edit after the settle window, blocks what rules block, status reports, stop exits 0', { timeout: 60_000 }, async () => {
  const repo = await tempRepo();
  const cfg = join(repo.root, '..', `${repo.root.split('/').pop()}-winnow.json`);
  await writeFile(cfg, fastConfig());
  await repo.write('staged.txt', 'the person staged this by hand\n');
  repo.git('add', 'staged.txt');
  const d = new DaemonProcess(repo.root, ['--config', cfg]);
  try {
    await d.ready();
    const second = await winnow(['start', repo.root, '--config', cfg], repo.root);
    assert.equal(second.code, 1, 'a second daemon on the same workspace exits 1');
    assert.match(second.stderr, new RegExp(`pid ${d.child.pid}`));

    const committed = d.commitOf('docs/a file.md');
    const blocked = d.waitFor((l) => l.msg === 'decision' && l.path === 'debug.log');
    await mkdir(join(repo.root, 'docs'), { recursive: true });
    await writeFile(join(repo.root, 'debug.log'), 'noise\n');
    await writeFile(join(repo.root, 'docs', 'a file.md'), '# notes\n');
    const b = await blocked;
    assert.equal(b.decision, 'BLOCK');
    assert.equal(b.layer, 1);
    const c = await committed;
    assert.equal(typeof c.sha, 'string');

    const files = repo.git('show', '--name-only', '--format=', String(c.sha)).trim().split('\n');
    assert.deepEqual(files, ['docs/a file.md']);
    assert.equal(repo.git('log', '-1', '--format=%s').trim(), 'winnow: docs/a file.md');
    assert.match(repo.git('status', '--porcelain'), /^A  staged\.txt$/m, 'what the person staged stays staged');
    assert.match(repo.git('status', '--porcelain', '--untracked-files=all'), /debug\.log/, 'the log stays uncommitted');

    const st = await winnow(['status', repo.root, '--json'], repo.root);
    assert.equal(st.code, 0);
    const s = JSON.parse(st.stdout) as { running: boolean; pid: number; lastCommits: { sha: string }[] };
    assert.equal(s.running, true);
    assert.equal(s.pid, d.child.pid);
    // A remote in a config the running daemon did not start with: it cannot sync; the CLI says
    // to restart it instead of waiting for an answer that never comes.
    await statusUntil(repo.root, (x) => x.version === 1 && x.sync === null, "the daemon's state file");
    const withRemote = `${repo.root}.remote.json`;
    await writeFile(withRemote, JSON.stringify({ remote: { name: 'origin' } }));
    const sync = await winnow(['sync', repo.root, '--config', withRemote], repo.root);
    await unlink(withRemote);
    assert.equal(sync.code, 2, sync.stderr);
    assert.match(sync.stderr, new RegExp(`daemon \\(PID ${d.child.pid}\\) started without a remote.*Restart it`));
    const stopped = d.waitFor((l) => l.msg === 'stopped');
    const stop = await winnow(['stop', repo.root], repo.root);
    assert.equal(stop.code, 0);
    await stopped;
    const exit = await d.exited;
    assert.equal(exit.code, 0);
    const after = JSON.parse((await winnow(['status', repo.root, '--json'], repo.root)).stdout) as { running: boolean; lastCommits: { sha: string }[] };
    assert.equal(after.running, false);
    assert.ok(after.lastCommits.some((x) => x.sha === c.sha), 'status lists the last commit');
  } finally {
    await d.kill();
    await repo.cleanup();
  }
});
