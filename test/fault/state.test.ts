/**
 * Damaged state: every file in `<git-dir>/winnow/` garbled while winnow was down. Promise: the
 * damaged state is discarded, a full rescan finds every change, nothing is lost; state files stay
 * private (0600, directory 0700).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { notBuilt, CASE_TIMEOUT_MS, faultWorkspace, fsck, committed, cookie, historyProblems, statusUntil, anyLog, tail, winnow } from './helpers.js';

test('corrupt state files are discarded with a warning and a full rescan commits what changed while down', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  // A long settle so the first daemon dies with an accepted change still pending (in pending.json).
  const ws = await faultWorkspace(t, { debounce: { defaultMs: 60_000, rules: [], maxMs: 60_000, maxWaitMs: 120_000 } });
  const d1 = ws.start();
  await d1.ready();
  const accepted = anyLog(d1, 'decision', (l) => l.path === 'notes/accepted.md');
  await ws.write('notes/accepted.md', 'accepted before the crash\n');
  assert.equal((await accepted).decision, 'ALLOW');
  await d1.kill();

  const files = (await readdir(ws.stateDir)).filter((f) => f.endsWith('.json') || f.endsWith('.snapshot') || f === 'daemon.lock');
  for (const f of ['pending.json', 'state.json', 'daemon.lock']) assert.ok(files.includes(f), `${f} exists to be corrupted (have: ${files.join(', ')})`);
  for (const f of files) await writeFile(join(ws.stateDir, f), Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x0a, 0x5b]));

  await ws.write('notes/while-down.md', 'written while winnow was down\n');
  await ws.setConfig({});
  const d2 = ws.start();
  const discarded = anyLog(d2, 'pending.json was unreadable and is discarded; a full rescan finds every change');
  await d2.ready();
  await discarded;
  await committed(d2, ws, {
    'notes/accepted.md': 'accepted before the crash\n',
    'notes/while-down.md': 'written while winnow was down\n',
  });
  await cookie(d2, ws);
  assert.deepEqual(historyProblems(ws), []);

  // The state file is written a moment after the commit's log line: wait for the new daemon's.
  const st = await statusUntil(ws.root, (s) => s.pid === d2.child.pid, `the restarted daemon's state:\n${tail(d2)}`);
  assert.equal(st.running, true, `status reads the rewritten state:\n${tail(d2)}`);
  assert.equal(st.pid, d2.child.pid);
  const f = await fsck(ws.root);
  assert.ok(f.ok, f.output);
});

test('state, lock and log files are private to their owner (files 0600, directory 0700)', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const d = ws.start();
  await d.ready();
  await cookie(d, ws); // a commit writes state.json, pending.json, the log
  const dir = await stat(ws.stateDir);
  assert.equal(dir.mode & 0o777, 0o700, `${ws.stateDir} is ${(dir.mode & 0o777).toString(8)}`);
  const loose: string[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await readdir(abs, { withFileTypes: true })) {
      const p = join(abs, e.name);
      // The daemon keeps writing atomically: a temp file listed here may be renamed away by now.
      const s = await stat(p).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (!s) continue;
      if (e.isDirectory()) {
        if ((s.mode & 0o077) !== 0) loose.push(`${rel}${e.name}/ ${(s.mode & 0o777).toString(8)}`);
        await walk(p, `${rel}${e.name}/`);
      } else if ((s.mode & 0o077) !== 0) loose.push(`${rel}${e.name} ${(s.mode & 0o777).toString(8)}`);
    }
  };
  await walk(ws.stateDir, '');
  const names = await readdir(ws.stateDir);
  for (const f of ['state.json', 'daemon.lock', 'winnow.log']) assert.ok(names.includes(f), `${f} was written (have: ${names.join(', ')})`);
  assert.deepEqual(loose, [], 'no state entry is readable by group or others');
  const doctor = JSON.parse((await winnow(['doctor', ws.root, '--json', '--config', ws.configFile], ws.root)).stdout) as {
    checks: { id: string; status: string }[];
  };
  assert.equal(doctor.checks.find((c) => c.id === 'state-permissions')?.status, 'ok', 'doctor agrees');
  await d.stop();
});

test('doctor fails on a state file others can read, and names it', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const d = ws.start();
  await d.ready();
  await d.stop();
  await chmod(join(ws.stateDir, 'state.json'), 0o644);
  const r = await winnow(['doctor', ws.root, '--config', ws.configFile], ws.root);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FAIL\s+state-permissions: .*state\.json \(0644\)/);
  assert.match(r.stderr, /chmod -R go-rwx/);
});
