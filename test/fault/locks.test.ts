/**
 * Lock contention: another git holding `index.lock` (live or crashed), and two daemons racing for
 * one workspace. Promises: nothing is lost, winnow never deletes an `index.lock` it did not create,
 * one daemon per workspace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  notBuilt,
  CASE_TIMEOUT_MS,
  faultWorkspace,
  fsck,
  committed,
  cookie,
  commitsSince,
  commitsTouching,
  historyProblems,
  statusUntil,
  anyLog,
  tail,
} from './helpers.js';

/** A live process that creates `lock` exclusively (as git does) and holds it until told to finish. */
async function holdLock(lock: string) {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const fs = require('fs');
       const fd = fs.openSync(process.argv[1], 'wx');
       fs.writeSync(fd, 'held by ' + process.pid);
       process.stdout.write('held\\n');
       process.stdin.once('data', () => { fs.closeSync(fd); fs.unlinkSync(process.argv[1]); process.exit(0); });`,
      lock,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await once(child.stdout!, 'data');
  return {
    pid: child.pid!,
    async release() {
      child.stdin!.write('go\n');
      await once(child, 'exit');
    },
    kill: () => child.kill('SIGKILL'),
  };
}

test('index.lock held by a live git: commits wait, the lock is never touched, then everything commits', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const lock = join(ws.root, '.git', 'index.lock');
  const d = ws.start();
  await d.ready();
  const holder = await holdLock(lock);
  t.after(() => holder.kill());
  const before = await stat(lock);

  const waiting = anyLog(d, 'commit waiting', (l) => String(l.waiting).includes('index.lock'));
  await ws.write('notes/during-lock.md', 'written while another git works\n');
  await waiting;
  // The state file is written a moment after the log line: wait for that state.
  const st = await statusUntil(ws.root, (s) => /index\.lock/.test(String(s.waiting)), 'why nothing commits (index.lock)');
  assert.match(String(st.waiting), /index\.lock/, 'status says why nothing commits');
  assert.ok(st.pending.some((p: { path: string }) => p.path === 'notes/during-lock.md'), 'the change is pending, not dropped');

  const after = await stat(lock);
  assert.equal(after.ino, before.ino, 'the lock file is the holder\'s, untouched');
  assert.equal(await readFile(lock, 'utf8'), `held by ${holder.pid}`);
  assert.equal(commitsSince(ws).length, 0, 'nothing was committed around the lock');

  await holder.release();
  await committed(d, ws, { 'notes/during-lock.md': 'written while another git works\n' });
  assert.deepEqual(historyProblems(ws), []);
  const f = await fsck(ws.root);
  assert.ok(f.ok, f.output);
});

test('stale index.lock left by a crashed git: winnow reports it, never deletes it; commits resume once the person removes it', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const lock = join(ws.root, '.git', 'index.lock');
  // A crashed git leaves a lock nobody holds.
  await writeFile(lock, '');
  const d = ws.start();
  await d.ready();
  const waiting = anyLog(d, 'commit waiting', (l) => String(l.waiting).includes('index.lock'));
  await ws.write('notes/one.md', 'one\n');
  await waiting;
  await ws.write('notes/two.md', 'two\n');
  // Both pending across several re-checks of the lock: the second change has been accepted after the first wait.
  const st = await statusUntil(
    ws.root,
    (s) => ['notes/one.md', 'notes/two.md'].every((p) => s.pending?.some((x: { path: string }) => x.path === p)),
    'both changes pending behind the stale lock',
  );
  assert.match(String(st.waiting), /index\.lock/);
  assert.match(String(st.waiting), /delete/, 'the sentence tells the person what to do about a crashed git\'s lock');
  await stat(lock); // throws if winnow removed it
  assert.equal(commitsSince(ws).length, 0);

  await unlink(lock); // the person's decision, not winnow's
  await committed(d, ws, { 'notes/one.md': 'one\n', 'notes/two.md': 'two\n' });
  assert.deepEqual(historyProblems(ws), []);
  const f = await fsck(ws.root);
  assert.ok(f.ok, f.output);
});

test('two daemons racing for one workspace: one runs, the other names its PID and exits 1; one commit per change', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  for (let round = 0; round < 3; round++) {
    const a = ws.start();
    const b = ws.start();
    const outcome = async (d: typeof a) => {
      const r = await Promise.race([d.ready().then(() => 'ready' as const), d.exited.then(() => 'exited' as const)]);
      return r;
    };
    const [ra, rb] = await Promise.all([outcome(a), outcome(b)]);
    assert.deepEqual([ra, rb].sort(), ['exited', 'ready'], `exactly one daemon runs (round ${round}):\nA:\n${tail(a)}\nB:\n${tail(b)}`);
    const [winner, loser] = ra === 'ready' ? [a, b] : [b, a];
    const lost = await loser.exited;
    assert.equal(lost.code, 1, 'the loser exits 1');
    const text = loser.stderrText.join('\n');
    assert.match(text, new RegExp(`\\b${winner.child.pid}\\b`), `the loser names the running PID:\n${text}`);
    assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');

    const path = `notes/round-${round}.md`;
    await ws.write(path, `round ${round}\n`);
    await committed(winner, ws, { [path]: `round ${round}\n` });
    await cookie(winner, ws);
    assert.equal(commitsTouching(ws, path).length, 1, 'one commit for the change');
    assert.equal((await winner.stop()).code, 0);
  }
  assert.deepEqual(historyProblems(ws), []);
});
