/**
 * The workspace disappearing under the daemon: mass deletion of tracked files, the whole root
 * deleted, the root moved away. Promise: no mass-deletion commit, nothing recreated at the old
 * place, the person's files untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { GIT_ENV } from '../helpers/repo.js';
import { notBuilt, CASE_TIMEOUT_MS, faultWorkspace, fsck, committed, historyProblems, anyLog, race, tail, type LogLine, statusUntil } from './helpers.js';

const TRACKED = Array.from({ length: 10 }, (_, i) => `docs/page-${i}.md`);

async function withTrackedFiles(ws: Awaited<ReturnType<typeof faultWorkspace>>): Promise<string> {
  for (const p of TRACKED) await ws.write(p, `page ${p}\n`);
  ws.git('add', '--', ...TRACKED);
  ws.git('commit', '-q', '-m', 'pages');
  return ws.git('rev-parse', 'HEAD').trim();
}

const deletes = (ws: { git(...a: string[]): string }, base: string) =>
  ws.git('log', '--diff-filter=D', '--name-only', '--format=', `${base}..HEAD`).split('\n').filter(Boolean);

test('deleting most tracked files is held back and reported, never committed', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const base = await withTrackedFiles(ws);
  const d = ws.start();
  await d.ready();
  const held = anyLog(d, 'held back', (l) => TRACKED.includes(String(l.path)));
  for (const p of TRACKED.slice(0, 8)) await unlink(join(ws.root, p));
  const h = await held;
  assert.match(String(h.reason), /delet/i, 'the reason says it is a mass deletion');
  const st = await statusUntil(ws.root, (s) => Array.isArray(s.held) && s.held.length > 0, 'a held path');
  assert.ok(st.held.some((x: { path: string }) => TRACKED.includes(x.path)), 'status lists what is held');
  assert.deepEqual(deletes(ws, base), [], 'no deletion was committed');

  // The person restores the files; their next real change is committed, with no deletion in it.
  ws.git('checkout', '--', 'docs');
  await ws.write('notes/after.md', 'after the scare\n');
  await committed(d, ws, { 'notes/after.md': 'after the scare\n' });
  assert.deepEqual(deletes(ws, base), []);
  for (const p of TRACKED) assert.ok(ws.git('ls-tree', 'HEAD', '--', p).trim(), `${p} still tracked at HEAD`);
  assert.deepEqual(historyProblems(ws, base), []);
  await d.stop();
});

/** Resolves when the daemon shows it noticed the root is gone: a wait, a failure, a held path or its exit. */
function noticed(d: Parameters<typeof tail>[0]) {
  const interesting = (l: LogLine) =>
    (l.msg === 'commit waiting' && /vanished|root/i.test(String(l.waiting))) || l.msg === 'held back' || l.level === 'error' || /fail/.test(l.msg);
  return race({ line: anyLogAfter(d, interesting), exited: d.exited });
}

function anyLogAfter(d: Parameters<typeof tail>[0], pred: (l: LogLine) => boolean) {
  const from = d.lines.length;
  const p = d.waitFor(pred, { fromIndex: from });
  p.catch(() => undefined);
  return p;
}

test('the workspace root deleted: nothing is recreated there, no commit, a clean exit on SIGTERM', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  await withTrackedFiles(ws);
  const d = ws.start();
  await d.ready();
  const seen = noticed(d);
  // Right after ready the committer sets up its private git dir (warm()): a file it writes while
  // rm walks the tree makes one rmdir fail with ENOTEMPTY, and a person would run rm again.
  await rm(ws.root, { recursive: true, force: true, maxRetries: 5 });
  const r = await seen;
  assert.ok(r.which === 'line' || r.which === 'exited', tail(d));
  const exit = await d.stop();
  assert.ok(exit.code === 0 || exit.code === 1, `exits cleanly, not by a crash (code ${exit.code}, signal ${exit.signal}):\n${tail(d)}`);
  assert.equal(existsSync(ws.root), false, `nothing (state dir, log, snapshot) was recreated at ${ws.root}`);
});

test('the workspace root moved away: no commit in the moved repository, nothing recreated at the old place', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const base = await withTrackedFiles(ws);
  const moved = `${ws.root}-moved`;
  t.after(() => rm(moved, { recursive: true, force: true }));
  const d = ws.start();
  await d.ready();
  const seen = noticed(d);
  await rename(ws.root, moved);
  // The person keeps working in the new place; the daemon's watches followed the inode.
  await writeFile(join(moved, 'docs', 'page-0.md'), 'edited after the move\n');
  await unlink(join(moved, 'docs', 'page-1.md'));
  const r = await seen;
  assert.ok(r.which === 'line' || r.which === 'exited', tail(d));
  const exit = await d.stop();
  assert.ok(exit.code === 0 || exit.code === 1, `exits cleanly (code ${exit.code}, signal ${exit.signal}):\n${tail(d)}`);
  assert.equal(existsSync(ws.root), false, `nothing was recreated at ${ws.root}`);
  const log = execFileSync('git', ['log', '--format=%H', `${base}..HEAD`], { cwd: moved, env: GIT_ENV }).toString().trim();
  assert.equal(log, '', 'no commit was made in the moved repository by a daemon that lost its root');
  const f = await fsck(moved);
  assert.ok(f.ok, f.output);
  // The person's edits are intact in the moved tree.
  assert.match(execFileSync('git', ['status', '--porcelain'], { cwd: moved, env: GIT_ENV }).toString(), /page-0\.md/);
});
