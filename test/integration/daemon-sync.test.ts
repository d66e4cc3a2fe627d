import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { GIT_ENV } from '../helpers/repo.js';
import { DaemonProcess, winnow, fastConfig, statusUntil } from '../helpers/daemon.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A bare remote and a clone of it, wired as `origin`. */
async function world() {
  const base = await mkdtemp(join(await realpath(tmpdir()), 'winnow-dsync-'));
  const bare = join(base, 'remote.git');
  const root = join(base, 'work');
  git(base, 'init', '-q', '--bare', '-b', 'main', bare);
  git(base, 'clone', '-q', bare, root);
  git(root, 'config', 'user.name', 'Test Person');
  git(root, 'config', 'user.email', 'person@example.test');
  await writeFile(join(root, 'README.md'), '# shared\n');
  git(root, 'add', 'README.md');
  git(root, 'commit', '-q', '-m', 'initial');
  git(root, 'push', '-q', 'origin', 'main');
  return { base, bare, root, cleanup: () => rm(base, { recursive: true, force: true }) };
}

test('the daemon pushes what it commits to the remote, and `winnow sync` goes through the running daemon', { timeout: 90_000 }, async () => {
  const w = await world();
  const cfg = join(w.base, 'winnow.json');
  await writeFile(cfg, fastConfig({ remote: { name: 'origin', minIntervalMs: 0 } }));
  const d = new DaemonProcess(w.root, ['--config', cfg]);
  try {
    await d.ready();
    const committed = d.commitOf('notes/today.md');
    await writeFile(join(w.root, 'README.md'), '# shared\n\nedited by a person\n');
    await (await import('node:fs/promises')).mkdir(join(w.root, 'notes'), { recursive: true });
    await writeFile(join(w.root, 'notes', 'today.md'), 'a note\n');
    const c = await committed;
    // The first successful push after that commit (minIntervalMs 0: a sync follows every commit).
    await d.waitFor((l) => l.msg === 'sync' && l.ok === true && Number(l.pushed ?? 0) > 0, { fromIndex: d.lines.indexOf(c) });
    // The remote holds the daemon's commit (pushed without force, in order).
    const remoteLog = git(w.bare, 'log', '--format=%H', 'main');
    assert.ok(remoteLog.includes(String(c.sha)), `remote has ${String(c.sha)}:\n${remoteLog}\n${d.stderrText.slice(-15).join('\n')}`);

    // A change made on the remote side arrives through `winnow sync` (served by the daemon).
    const other = join(w.base, 'other');
    git(w.base, 'clone', '-q', w.bare, other);
    git(other, 'config', 'user.name', 'Other Device');
    git(other, 'config', 'user.email', 'other@example.test');
    await writeFile(join(other, 'from-elsewhere.md'), 'written on another device\n');
    git(other, 'add', '.');
    git(other, 'commit', '-q', '-m', 'elsewhere');
    git(other, 'push', '-q', 'origin', 'main');
    const r = await winnow(['sync', w.root, '--config', cfg, '--reason', 'test', '--json'], w.root);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { ok: boolean };
    assert.equal(res.ok, true, r.stdout);
    assert.equal(git(w.root, 'show', 'HEAD:from-elsewhere.md'), 'written on another device\n');
    // The daemon's state file is written a moment after the sync's result: wait for that state.
    const st = await statusUntil(w.root, (s) => Boolean(s.sync?.lastSync), 'the last sync');
    assert.ok(st.sync && st.sync.lastSync && st.sync.lastSync.ok, `status shows the last sync: ${JSON.stringify(st.sync)}`);
    // Without --config the CLI finds no .winnow.json here; the running daemon, which has a remote
    // (its state says so), syncs anyway — as it must while a pull replaces .winnow.json.
    const bare = await winnow(['sync', w.root, '--json'], w.root);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal((JSON.parse(bare.stdout) as { ok: boolean }).ok, true, bare.stdout);
    assert.equal(git(w.root, 'stash', 'list').trim(), '', 'nothing left in a stash');
  } finally {
    await d.kill();
    await w.cleanup();
  }
});
