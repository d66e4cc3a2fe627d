import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm, writeFile, readFile, stat, readdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { acquireLock, LockTimeoutError } from '../../src/daemon/lifecycle/lock-manager.js';
import { createRegistry } from '../../src/daemon/lifecycle/registry.js';

async function tmp(t: { after(fn: () => unknown): void }): Promise<string> {
  const d = await mkdtemp(join(await realpath(tmpdir()), 'winnow-lock-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('waiters get the lock in arrival order', async (t) => {
  const file = join(await tmp(t), 'x.lock');
  const first = await acquireLock(file, { timeoutMs: 1000 });
  const order: number[] = [];
  const waiters = [1, 2, 3].map((n) =>
    acquireLock(file, { timeoutMs: 10_000 }).then(async (h) => {
      order.push(n);
      await h.release();
    }),
  );
  await first.release();
  await Promise.all(waiters);
  assert.deepEqual(order, [1, 2, 3]);
});

test('a live holder is never robbed: the waiter times out naming it', async (t) => {
  const file = join(await tmp(t), 'x.lock');
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await writeFile(file, JSON.stringify({ pid: child.pid, startTime: null, takenAt: new Date().toISOString() }));
  await assert.rejects(acquireLock(file, { timeoutMs: 50 }), (e: unknown) => e instanceof LockTimeoutError && e.message.includes(`PID ${child.pid}`));
  assert.equal(JSON.parse(await readFile(file, 'utf8')).pid, child.pid);
});

test('a lock whose process is gone, or whose PID was reused, is replaced', async (t) => {
  const dir = await tmp(t);
  const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => dead.on('exit', r));
  await writeFile(join(dir, 'a.lock'), JSON.stringify({ pid: dead.pid, startTime: null, takenAt: '' }));
  const a = await acquireLock(join(dir, 'a.lock'), { timeoutMs: 1000 });
  assert.equal(a.info.pid, process.pid);
  await a.release();
  // PID reuse: our own PID with a start time that is not ours.
  await writeFile(join(dir, 'b.lock'), JSON.stringify({ pid: process.pid, startTime: '1', takenAt: '' }));
  const reused = await stat('/proc/self/stat').then(() => true, () => false);
  if (!reused) return t.skip('no /proc: start times unavailable, PID reuse cannot be told apart');
  const b = await acquireLock(join(dir, 'b.lock'), { timeoutMs: 1000 });
  assert.notEqual(b.info.startTime, '1');
  await b.release();
});

/**
 * `n` real processes race for one lock file: each takes it on the same "go" line, reports, and
 * holds on (alive) until its stdin closes, so every loser sees a live winner.
 */
async function race(file: string, n: number): Promise<{ pid: number; ok: boolean; holder: number }[]> {
  const src = `
    import { tryAcquireLock } from ${JSON.stringify(new URL('../../src/daemon/lifecycle/lock.ts', import.meta.url).href)};
    import { createInterface } from 'node:readline';
    process.stdout.write('ready\\n');
    createInterface({ input: process.stdin }).once('line', async () => {
      const r = await tryAcquireLock(${JSON.stringify(file)});
      process.stdout.write(JSON.stringify({ pid: process.pid, ok: r.ok, holder: r.ok ? process.pid : r.holder.pid }) + '\\n');
    });`;
  const kids = Array.from({ length: n }, () => spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const lines = kids.map((k) => {
    const rl = createInterface({ input: k.stdout! });
    const got: string[] = [];
    const waiters: ((l: string) => void)[] = [];
    rl.on('line', (l) => (waiters.length ? waiters.shift()!(l) : got.push(l)));
    return () => (got.length ? Promise.resolve(got.shift()!) : new Promise<string>((r) => waiters.push(r)));
  });
  try {
    for (const next of lines) assert.equal(await next(), 'ready');
    for (const k of kids) k.stdin!.write('go\n');
    return await Promise.all(lines.map(async (next) => JSON.parse(await next())));
  } finally {
    for (const k of kids) k.stdin!.end();
    await Promise.all(kids.map((k) => (k.exitCode !== null ? null : new Promise((r) => k.on('exit', r)))));
  }
}

test('processes racing for a lock: exactly one takes it, fresh or stale, and every other names it', async (t) => {
  const dir = await tmp(t);
  const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => dead.on('exit', r));
  for (let round = 0; round < 6; round++) {
    const file = join(dir, `r${round}.lock`);
    // Odd rounds start from a lock its process left behind: the racers must break it once.
    if (round % 2) await writeFile(file, JSON.stringify({ pid: dead.pid, startTime: null, takenAt: '' }));
    const rs = await race(file, 6);
    const winners = rs.filter((r) => r.ok);
    assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(rs)}`);
    for (const r of rs) assert.equal(r.holder, winners[0]!.pid, `round ${round}: ${JSON.stringify(rs)}`);
    // No temporary or break file left behind.
    assert.deepEqual((await readdir(dir)).filter((f) => !f.endsWith('.lock')), []);
  }
});

test('registry: register, list with liveness, unregister; concurrent writers lose nothing', async (t) => {
  const dir = await tmp(t);
  const reg = createRegistry(join(dir, 'winnow', 'workspaces.json'));
  const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => dead.on('exit', r));
  await Promise.all(Array.from({ length: 8 }, (_, i) => reg.register(`/w/${i}`, i === 0 ? dead.pid! : process.pid)));
  const l = await reg.list();
  assert.equal(l.length, 8);
  assert.equal(l.find((e) => e.root === '/w/0')!.running, false);
  assert.equal(l.find((e) => e.root === '/w/1')!.running, true);
  await reg.unregister('/w/0');
  assert.deepEqual((await reg.list()).map((e) => e.root), ['/w/1', '/w/2', '/w/3', '/w/4', '/w/5', '/w/6', '/w/7']);
  const raw = JSON.parse(await readFile(join(dir, 'winnow', 'workspaces.json'), 'utf8'));
  assert.equal(raw.version, 1);
  assert.equal(raw.seq, 9);
  assert.equal((await stat(join(dir, 'winnow', 'workspaces.json'))).mode & 0o777, 0o600);
});
