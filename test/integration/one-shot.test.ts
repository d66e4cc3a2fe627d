/**
 * A one-shot autonomous job (a hook script, a cron-run agent) that writes through a child and
 * exits, tree and all, before winnow classifies the write: with fanotify and lineage (root), the
 * command lines forkstat recorded at exec still name it autonomous. Real daemon, fatrace, forkstat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tempRepo } from '../helpers/repo.js';
import { DaemonProcess, fastConfig } from '../helpers/daemon.js';

const has = (paths: string[]) => paths.some((p) => existsSync(p));
const skip =
  process.platform !== 'linux'
    ? 'needs Linux'
    : process.getuid?.() !== 0
      ? 'fanotify and the process-events connector need root'
      : !has(['/usr/sbin/fatrace', '/usr/bin/fatrace'])
        ? 'fatrace is not installed'
        : !has(['/usr/bin/forkstat', '/usr/sbin/forkstat'])
          ? 'forkstat is not installed'
          : false;

/** Runs `script` in a shell whose command line (argv[0]) is `name`, and waits for the whole tree to exit. */
function oneShot(name: string, script: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', script], { cwd, argv0: name, stdio: 'ignore' });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${name} exited ${code}`))));
  });
}

test('a one-shot autonomous job whose tree exited before the decision is BLOCKed by its recorded command line; the person\'s edit is committed', { skip, timeout: 60_000 }, async (t) => {
  const r = await tempRepo();
  t.after(() => r.cleanup());
  const name = `claude-autonomous-oneshot-${process.pid}`;
  await r.write('.winnow.json', fastConfig({ autonomous: { fanotify: 'on', trace: 'off', commands: [name] } }));
  r.git('add', '-A');
  r.git('commit', '-qm', 'config');
  const d = new DaemonProcess(r.root);
  t.after(() => d.stop());
  await d.ready();
  for (const i of [1, 2]) {
    const decided = d.next((l) => l.msg === 'decision' && l.path === 'report.md');
    // The write is a grandchild's (`sh -c` in `sh -c`; `; true` keeps each shell from exec'ing its last command).
    await oneShot(name, `sh -c 'printf "run ${i}\\n" > report.md; true'; true`, r.root);
    const l = await decided;
    assert.equal(l.decision, 'BLOCK', `run ${i}: ${String(l.reason)}`);
    assert.equal(l.layer, 2);
    assert.match(String(l.reason), /autonomous/);
  }
  const committed = d.next((l) => l.msg === 'commit');
  await r.write('mine.md', 'the person\n');
  assert.deepEqual((await committed).paths, ['mine.md']);
  assert.equal(r.git('log', '--format=%s', '--', 'report.md').trim(), '', 'report.md was never committed');
});
