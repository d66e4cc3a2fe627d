import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFile } from 'node:fs/promises';
import { tempRepo } from '../helpers/repo.js';
import { BIN, DaemonProcess, winnow, fastConfig, statusUntil } from '../helpers/daemon.js';
import { GIT_ENV } from '../helpers/repo.js';

test('pause holds commits (status says why, the change stays pending), resume lets them through', { timeout: 60_000 }, async () => {
  const repo = await tempRepo();
  const cfg = `${repo.root}.winnow.json`;
  await writeFile(cfg, fastConfig());
  const d = new DaemonProcess(repo.root, ['--config', cfg]);
  try {
    await d.ready();
    const p = await winnow(['pause', repo.root, '--for', '10m', '--reason', 'agent is mid-refactor'], repo.root);
    assert.equal(p.code, 0, p.stderr);
    const waiting = d.next((l) => l.msg === 'commit waiting' && /pause/.test(String(l.waiting)));
    await repo.write('paused.md', 'written while paused\n');
    await waiting;
    // The state file is written a moment after the log line: wait for that state.
    const st = (await statusUntil(repo.root, (s) => /pause/.test(String(s.waiting)), 'the pause as the reason for waiting')) as {
      pending: { path: string }[];
      waiting: string | null;
      pause: { reason: string } | null;
    };
    assert.ok(st.pending.some((x) => x.path === 'paused.md'), JSON.stringify(st.pending));
    assert.match(String(st.waiting), /pause/);
    assert.equal(st.pause?.reason, 'agent is mid-refactor');
    assert.equal(repo.git('rev-list', '--count', 'HEAD').trim(), '1', 'nothing committed while paused');
    const committed = d.commitOf('paused.md');
    const r = await winnow(['resume', repo.root], repo.root);
    assert.equal(r.code, 0);
    await committed;
    assert.equal(repo.git('show', 'HEAD:paused.md'), 'written while paused\n');
    const bad = await winnow(['pause', repo.root, '--for', 'a while'], repo.root);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--for "a while" is not a duration/);
  } finally {
    await d.kill();
    await repo.cleanup();
  }
});

test('filter test prints the SPEC decision record per path; filter debug follows the daemon live', { timeout: 60_000 }, async () => {
  const repo = await tempRepo();
  const cfg = `${repo.root}.winnow.json`;
  await writeFile(cfg, fastConfig({ rules: ['ALLOW:docs/**:User docs'] }));
  try {
    await repo.write('docs/a.md', 'a\n');
    await repo.write('build.log', 'noise\n');
    const t = await winnow(['filter', 'test', 'docs/a.md', 'build.log', '--json', '--config', cfg], repo.root);
    assert.equal(t.code, 0, t.stderr);
    const recs = t.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(Object.keys(recs[0]!).slice(0, 5), ['path', 'decision', 'layer', 'rule', 'reason']);
    assert.deepEqual([recs[0]!.path, recs[0]!.decision, recs[0]!.layer, recs[0]!.rule], ['docs/a.md', 'ALLOW', 1, 'ALLOW:docs/**:User docs']);
    assert.deepEqual([recs[1]!.path, recs[1]!.decision, recs[1]!.layer], ['build.log', 'BLOCK', 1]);
    assert.match(String(recs[1]!.rule), /^BLOCK:\*\.log/);
    const human = await winnow(['filter', 'test', 'docs/a.md', '--config', cfg], repo.root);
    assert.match(human.stdout, /ALLOW\s+L1\s+docs\/a\.md/);

    const d = new DaemonProcess(repo.root, ['--config', cfg]);
    try {
      await d.ready();
      const dbg = spawn(process.execPath, [BIN, 'filter', 'debug', repo.root, '--json'], { cwd: repo.root, env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
      const following = new Promise<void>((resolve) => dbg.stderr!.on('data', (b: Buffer) => /following the decisions/.test(b.toString()) && resolve()));
      const seen = new Promise<Record<string, unknown>>((resolve) => {
        createInterface({ input: dbg.stdout! }).on('line', (l) => {
          const o = JSON.parse(l) as Record<string, unknown>;
          if (o.path === 'docs/live.md') resolve(o);
        });
      });
      await following;
      await repo.write('docs/live.md', 'live\n');
      const rec = await seen;
      assert.equal(rec.decision, 'ALLOW');
      assert.equal(rec.rule, 'ALLOW:docs/**:User docs');
      dbg.kill('SIGINT');
    } finally {
      await d.kill();
    }
  } finally {
    await repo.cleanup();
  }
});
