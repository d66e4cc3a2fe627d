import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../helpers/clock.js';
import { createSyncer, type SyncOutcome } from '../../src/daemon/sync/syncer.js';
import type { QueuedSync } from '../../src/core/sync/index.js';
import { DEFAULTS, REMOTE_DEFAULTS, type Config } from '../../src/core/config/defaults.js';
import type { GitRunner } from '../../src/ports/index.js';

const config = {
  ...DEFAULTS,
  remote: { ...REMOTE_DEFAULTS, minIntervalMs: 60_000 },
  retry: { attempts: 3, baseMs: 1_000, maxMs: 8_000, breakerCooldownMs: 120_000 },
} as Config;
const nullGit: GitRunner = async () => ({ code: 0, stdout: Buffer.alloc(0), stderr: '' });

async function setup(t: { after(fn: () => unknown): void }, outcomes: (run: QueuedSync) => SyncOutcome | Promise<SyncOutcome>, opts: { syncOnStart?: boolean; git?: GitRunner } = {}) {
  const stateDir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-syncer-'));
  t.after(() => rm(stateDir, { recursive: true, force: true }));
  const clock = new ManualClock();
  const runs: (QueuedSync & { at: number })[] = [];
  const syncer = createSyncer({
    root: '/nowhere',
    gitDir: '/nowhere/.git',
    stateDir,
    config,
    clock,
    scheduler: clock,
    logger: { log() {} },
    hostname: 'h',
    commitPending: async () => undefined,
    git: opts.git ?? nullGit,
    random: () => 0,
    syncOnStart: opts.syncOnStart ?? false,
    syncOnExit: true,
    perform: async (run) => {
      runs.push({ ...run, at: clock.now() });
      return outcomes(run);
    },
  });
  await syncer.ready;
  return { syncer, clock, runs, stateDir };
}

const ok = (): SyncOutcome => ({ ok: true, message: 'synced', pulled: 0, pushed: 1, ahead: 0, behind: 0 });

test('start-up sync runs on the first tick at lifecycle priority', async (t) => {
  const { syncer, clock, runs } = await setup(t, ok, { syncOnStart: true });
  assert.equal(runs.length, 0);
  await clock.advance(0);
  await syncer.idle();
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.priority, 'lifecycle');
  assert.deepEqual(runs[0]!.reasons, ['startup']);
});

test('requests arriving while a sync runs are merged into one next run with the strongest priority', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const firstStarted = new Promise<void>((r) => (started = r));
  let n = 0;
  const { syncer, runs } = await setup(t, async () => {
    if (n++ === 0) {
      started();
      await gate;
    }
    return ok();
  });
  const first = syncer.request({ reason: 'one', priority: 'manual' });
  await firstStarted;
  const a = syncer.request({ reason: 'after commit', priority: 'manual' });
  const b = syncer.request({ reason: 'winnow sync', priority: 'manual', force: true });
  const c = syncer.request({ reason: 'after commit', priority: 'manual' });
  release();
  const answers = await Promise.all([first, a, b, c]);
  assert.ok(answers.every((x) => x.ok));
  assert.equal(runs.length, 2);
  assert.deepEqual(runs[1]!.reasons, ['after commit', 'winnow sync']);
  assert.equal(runs[1]!.force, true);
  assert.equal(runs[1]!.ids.length, 3);
});

test('after a commit the scheduled sync runs minIntervalMs after the last one, once', async (t) => {
  const { syncer, clock, runs } = await setup(t, ok);
  await syncer.request({ reason: 'startup', priority: 'lifecycle' });
  const t0 = clock.now();
  syncer.afterCommit();
  syncer.afterCommit();
  syncer.afterCommit();
  assert.equal(syncer.status().nextAt, t0 + 60_000);
  await clock.advance(59_999);
  await syncer.idle();
  assert.equal(runs.length, 1);
  await clock.advance(1);
  await syncer.idle();
  assert.equal(runs.length, 2);
  assert.equal(runs[1]!.priority, 'scheduled');
  assert.equal(syncer.status().nextAt, null);
});

test('failures back off, open the breaker, show in status; manual still runs and a success closes it', async (t) => {
  let fail = true;
  const { syncer, clock, runs, stateDir } = await setup(t, () => (fail ? { ok: false, message: 'remote down', failure: 'unreachable' } : ok()));
  const r = await syncer.request({ reason: 'startup', priority: 'lifecycle' });
  assert.equal(r.ok, false);
  assert.equal(syncer.status().breaker.failures, 1);
  assert.equal(syncer.status().nextAt, clock.now() + 500); // base 1000, equal jitter with random 0
  await clock.advance(500);
  await syncer.idle();
  assert.equal(runs.length, 2);
  await clock.advance(1_000);
  await syncer.idle();
  assert.equal(runs.length, 3);
  const st = syncer.status();
  assert.equal(st.breaker.open, true);
  assert.equal(st.breaker.until, clock.now() + 120_000);
  // Scheduled requests wait for the breaker; a person's request goes through.
  const held = await syncer.request({ reason: 'after commit', priority: 'scheduled' });
  assert.match(held.message, /breaker open/);
  assert.equal(runs.length, 3);
  fail = false;
  const manual = await syncer.request({ reason: 'winnow sync', priority: 'manual' });
  assert.equal(manual.ok, true);
  assert.deepEqual(syncer.status().breaker, { open: false, until: null, failures: 0 });
  assert.equal(syncer.status().lastSync?.ok, true);
  const persisted = JSON.parse(await readFile(join(stateDir, 'sync-state.json'), 'utf8'));
  assert.equal(persisted.version, 1);
  assert.ok(persisted.seq >= 4);
  const audit = (await readFile(join(stateDir, 'sync.log'), 'utf8')).trim().split('\n');
  assert.equal(audit.length, 4);
});

test('a manual conflict stops scheduled syncs and is reported; state survives a restart', async (t) => {
  // git answers "not an ancestor": the person has not integrated the remote tip yet.
  const notYet: GitRunner = async () => ({ code: 1, stdout: Buffer.alloc(0), stderr: '' });
  const { syncer, stateDir } = await setup(t, () => ({ ok: false, message: 'conflicts', failure: 'conflict', conflicts: ['a.md'], conflictRemote: 'abc' }), { git: notYet });
  await syncer.request({ reason: 'x', priority: 'manual' });
  assert.deepEqual(syncer.status().conflicts, ['a.md']);
  const refused = await syncer.request({ reason: 'after commit', priority: 'scheduled' });
  assert.match(refused.message, /stopped/);
  // A new syncer on the same state dir still knows.
  const clock = new ManualClock();
  const again = createSyncer({
    root: '/nowhere', gitDir: '/nowhere/.git', stateDir, config, clock, scheduler: clock, logger: { log() {} }, hostname: 'h',
    commitPending: async () => undefined, git: async () => ({ code: 1, stdout: Buffer.alloc(0), stderr: '' }), syncOnStart: false, syncOnExit: false,
    perform: async () => ok(),
  });
  const r = await again.request({ reason: 'after commit', priority: 'scheduled' });
  assert.match(r.message, /stopped/);
  assert.deepEqual(again.status().conflicts, ['a.md']);
});

test('close runs the exit sync and cancels timers', async (t) => {
  const { syncer, clock, runs } = await setup(t, ok);
  syncer.afterCommit();
  assert.equal(clock.pendingTimers, 1);
  await syncer.close();
  assert.equal(runs.length, 1);
  assert.deepEqual(runs[0]!.reasons, ['exit']);
  assert.equal(clock.pendingTimers, 0);
  const after = await syncer.request({ reason: 'late', priority: 'manual' });
  assert.equal(after.ok, false);
});

test('an auth failure is not retried like a network blip: the next try waits for the cooldown', async (t) => {
  const failWith = (failure: 'auth' | 'unreachable') => (): SyncOutcome => ({ ok: false, message: `push failed (${failure})`, failure });
  // The same failed sync at lifecycle priority; only the kind of failure differs.
  const blip = await setup(t, failWith('unreachable'));
  await blip.syncer.request({ reason: 'exit', priority: 'lifecycle' });
  assert.equal(blip.syncer.status().nextAt, blip.clock.now() + 500, 'unreachable: retried after the backoff (half of baseMs, random 0)');
  assert.equal(blip.syncer.status().breaker.open, false);

  const auth = await setup(t, failWith('auth'));
  await auth.syncer.request({ reason: 'exit', priority: 'lifecycle' });
  const st = auth.syncer.status();
  assert.equal(st.breaker.open, true, 'rejected credentials open the breaker at once');
  assert.equal(st.nextAt, auth.clock.now() + 120_000, 'the next scheduled try after the cooldown, not in seconds');
  await auth.clock.advance(60_000);
  assert.equal(auth.runs.length, 1, 'no retry within the cooldown');
  const manual = await auth.syncer.request({ reason: 'winnow sync', priority: 'manual' });
  assert.equal(auth.runs.length, 2, 'a person asking still runs it');
  assert.equal(manual.ok, false);
});
