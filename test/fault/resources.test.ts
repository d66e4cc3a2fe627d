/**
 * Resource exhaustion: a full disk (a small tmpfs, root only) and the inotify watch limit (lowered
 * inside a user namespace, so the host's limit is never touched). Promises: nothing is lost, the
 * repository stays valid, the watcher limit falls back to rescans with a message naming the sysctl.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, open, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { notBuilt, CASE_TIMEOUT_MS, faultWorkspace, fsck, committed, historyProblems, anyLog, winnow, tail, type DaemonProcess, statusUntil } from './helpers.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A fresh tmpfs of `size` bytes, unmounted after the test; or a reason it cannot be had. */
async function smallDisk(t: TestContext, size: number): Promise<string | { skip: string }> {
  if (!isRoot) return { skip: 'needs root to mount a small tmpfs (the fs port is covered by the committer\'s component tests)' };
  const dir = join(tmpdir(), `winnow-disk-${process.pid}-${Date.now()}`);
  await mkdir(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    await rmdir(dir).catch(() => undefined);
    return { skip: `cannot mount a tmpfs here: ${(r.stderr || r.error?.message || '').trim()}` };
  }
  t.after(async () => {
    spawnSync('umount', ['-l', dir]);
    await rmdir(dir).catch(() => undefined);
  });
  return dir;
}

/** faultWorkspace under `base` (tempRepo creates its repo under os.tmpdir()). */
async function workspaceUnder(t: TestContext, base: string, config: Record<string, unknown>) {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = base;
  try {
    return await faultWorkspace(t, config);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

/** Fills the file system holding `file` to the last byte; returns how much was written. */
async function fill(file: string): Promise<number> {
  const fh = await open(file, 'a');
  let written = 0;
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 8, 1]) {
      const buf = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          await fh.write(buf);
          written += size;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  return written;
}

test('free disk below health.minFreeBytes: commits wait and say why; nothing lost once space is back', { timeout: CASE_TIMEOUT_MS, skip: notBuilt }, async (t) => {
  const disk = await smallDisk(t, 32 << 20);
  if (typeof disk !== 'string') return t.skip(disk.skip);
  const ws = await workspaceUnder(t, disk, { health: { minFreeBytes: 8 << 20 } });
  const d = ws.start();
  await d.ready();
  // Filler inside .git: never watched, never a change to commit.
  const filler = join(ws.root, '.git', 'filler');
  await writeFile(filler, Buffer.alloc(26 << 20));
  const waiting = anyLog(d, 'commit waiting', (l) => /low disk/.test(String(l.waiting)));
  await ws.write('notes/low-disk.md', 'written on a nearly full disk\n');
  await waiting;
  // The state file is written a moment after the log line: wait for that state.
  const st = await statusUntil(ws.root, (s) => /low disk/.test(String(s.waiting)), 'the low-disk wait');
  assert.match(String(st.waiting), /health\.minFreeBytes/, 'status names the setting');
  assert.ok(st.pending.some((p: { path: string }) => p.path === 'notes/low-disk.md'));
  await rm(filler);
  await committed(d, ws, { 'notes/low-disk.md': 'written on a nearly full disk\n' });
  const f = await fsck(ws.root);
  assert.ok(f.ok, f.output);
});

test('disk full during a commit (ENOSPC): retried, repository valid, committed once space is back', { timeout: CASE_TIMEOUT_MS, skip: notBuilt }, async (t) => {
  const disk = await smallDisk(t, 32 << 20);
  if (typeof disk !== 'string') return t.skip(disk.skip);
  const ws = await workspaceUnder(t, disk, { health: { minFreeBytes: 0 } });
  const d = ws.start();
  await d.ready();
  // Hold commits while the disk is filled, so the commit itself meets ENOSPC.
  const paused = await winnow(['pause', ws.root, '--reason', 'fault test fills the disk'], ws.root);
  assert.equal(paused.code, 0, paused.stderr);
  const pausedWait = anyLog(d, 'commit waiting', (l) => /paus/.test(String(l.waiting)));
  await ws.write('notes/full-disk.md', 'a change that meets a full disk\n');
  await pausedWait;
  const filler = join(ws.root, '.git', 'filler');
  await fill(filler);

  const failedCommit = anyLog(d, 'commit failed; will retry').catch(() => null);
  const breakerOpened = anyLog(d, 'commit failed; breaker open').catch(() => null);
  const resumed = await winnow(['resume', ws.root], ws.root);
  assert.equal(resumed.code, 0, resumed.stderr);
  const fl = (await Promise.race([failedCommit, breakerOpened]))!;
  assert.ok(fl, tail(d));
  assert.match(String(fl.error), /space|ENOSPC|write/i, `the failure is the full disk:\n${tail(d)}`);
  assert.equal(d.child.exitCode, null, 'the daemon is still running');
  const during = await fsck(ws.root);
  assert.ok(during.ok, `git fsck with the disk full:\n${during.output}`);

  await rm(filler);
  await committed(d, ws, { 'notes/full-disk.md': 'a change that meets a full disk\n' });
  assert.deepEqual(historyProblems(ws), []);
  const f = await fsck(ws.root);
  assert.ok(f.ok, f.output);
  assert.equal((await d.stop()).code, 0);
  // SPEC: a full disk is transient (retry with backoff), not a fatal error.
  assert.notEqual(fl.kind, 'fatal', `a full disk is classified as transient, got ${JSON.stringify(fl)}`);
});

/** Runs `start` inside a new user namespace whose inotify watch limit is `limit`. */
function startWithWatchLimit(ws: Awaited<ReturnType<typeof faultWorkspace>>, limit: number, wrapperDir: string): DaemonProcess {
  const wrapper = join(wrapperDir, 'node-with-watch-limit');
  // DaemonProcess spawns process.execPath: point it at a wrapper for this one spawn.
  const realNode = process.execPath;
  const script = `#!/bin/sh\nexec unshare --user --map-root-user sh -c 'echo ${limit} > /proc/sys/user/max_inotify_watches && exec "$0" "$@"' ${realNode} "$@"\n`;
  execFileSync('sh', ['-c', `cat > '${wrapper}' && chmod 700 '${wrapper}'`], { input: script });
  process.execPath = wrapper;
  try {
    return ws.start();
  } finally {
    process.execPath = realNode;
  }
}

test('inotify watch limit reached: the message names the sysctl, rescans take over, changes are committed', { timeout: CASE_TIMEOUT_MS, skip: notBuilt }, async (t) => {
  const probe = spawnSync('unshare', ['--user', '--map-root-user', 'sh', '-c', 'echo 8 > /proc/sys/user/max_inotify_watches'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip(`cannot lower the watch limit in a user namespace here: ${(probe.stderr || probe.error?.message || '').trim()}`);
  const ws = await faultWorkspace(t, { rescanMs: 500 });
  for (let i = 0; i < 30; i++) await ws.write(`tree/dir-${i}/keep.md`, `${i}\n`);
  ws.git('add', 'tree');
  ws.git('commit', '-q', '-m', 'thirty directories');
  const wrapperDir = join(tmpdir(), `winnow-wrap-${process.pid}-${Date.now()}`);
  await mkdir(wrapperDir, { recursive: true });
  await chmod(wrapperDir, 0o700);
  t.after(() => rm(wrapperDir, { recursive: true, force: true }));

  const d = startWithWatchLimit(ws, 8, wrapperDir);
  const limitLine = anyLog(d, 'watcher unavailable; falling back to rescans with git status');
  const watcherErr = anyLog(d, 'watcher error; rescanning with git status');
  await d.ready();
  const first = await Promise.race([limitLine, watcherErr]);
  assert.match(String(first.error), /fs\.inotify\.max_user_watches/, `the message names the sysctl to raise:\n${JSON.stringify(first)}`);
  const st = await statusUntil(ws.root, (s) => s.watcher !== undefined && s.running === true, 'the running daemon\'s watcher mode');
  assert.notEqual(st.watcher?.mode, 'live', 'status does not claim a live watcher');

  await ws.write('tree/dir-29/new.md', 'seen by a rescan, not by inotify\n');
  await committed(d, ws, { 'tree/dir-29/new.md': 'seen by a rescan, not by inotify\n' });
  assert.deepEqual(historyProblems(ws), []);
  assert.equal((await d.stop()).code, 0, tail(d));
});
