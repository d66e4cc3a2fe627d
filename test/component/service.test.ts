/**
 * The whole service with fake ports: watcher events in, commits out, on a manual clock (no wall
 * clock, no sleeps). Storm ordering, settle windows, rescans and the replay of accepted changes
 * after a restart.
 *
 * Only daemon.lock and the pause signal are real files (in a temp state dir); the workspace, its
 * git and the state files the service writes through the Fs port are in memory.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService, type Service, type ServiceDeps } from '../../src/daemon/service.js';
import { existsSync } from 'node:fs';
import { compileRules, parseRules } from '../../src/core/classify/rules.js';
import { mergeConfig, type ConfigInput } from '../../src/core/config/schema.js';
import type { Decision } from '../../src/core/decision.js';
import type { WatchEvent } from '../../src/core/event.js';
import { formatPause } from '../../src/daemon/lifecycle/pause.js';
import type {
  FileStat,
  Fs,
  Git,
  GitStep,
  Logger,
  ProcProbe,
  ProcessTable,
  StatusEntry,
  StreamSpec,
  Watcher,
  WatcherSubscription,
} from '../../src/ports/index.js';
import type { GitRunner } from '../../src/ports/index.js';
import { ManualClock, flushMicrotasks } from '../helpers/clock.js';

const ROOT = '/ws';
const GITDIR = '/ws/.git';

/** In-memory file system keyed by absolute path; every write bumps the mtime. */
class FakeFs implements Fs {
  files = new Map<string, { content: Buffer; mtimeMs: number; dir?: boolean }>();
  constructor(private clock: ManualClock) {
    this.files.set(ROOT, { content: Buffer.alloc(0), mtimeMs: 0, dir: true });
    this.files.set(`${GITDIR}/HEAD`, { content: Buffer.from('ref: refs/heads/main\n'), mtimeMs: 0 });
  }
  put(rel: string, content: string): void {
    this.files.set(`${ROOT}/${rel}`, { content: Buffer.from(content), mtimeMs: this.clock.now() });
  }
  async readFile(abs: string): Promise<Buffer> {
    this.waiters.filter((w) => w.op === 'read' && w.abs === abs).forEach((w) => w.resolve());
    this.waiters = this.waiters.filter((w) => !(w.op === 'read' && w.abs === abs));
    const e = this.files.get(abs);
    if (!e) throw Object.assign(new Error(`ENOENT: ${abs}`), { code: 'ENOENT' });
    return e.content;
  }
  async stat(abs: string): Promise<FileStat | null> {
    const e = this.files.get(abs);
    if (!e) return null;
    return { size: e.content.length, mtimeMs: e.mtimeMs, isFile: !e.dir, isDirectory: Boolean(e.dir), isSymlink: false, isSpecial: false };
  }
  async writeFileAtomic(abs: string, data: string | Buffer): Promise<void> {
    this.files.set(abs, { content: Buffer.from(data), mtimeMs: this.clock.now() });
    this.waiters.filter((w) => w.op === 'write' && w.abs === abs).forEach((w) => w.resolve());
    this.waiters = this.waiters.filter((w) => !(w.op === 'write' && w.abs === abs));
  }
  private waiters: { op: 'read' | 'write'; abs: string; resolve: () => void }[] = [];
  /** Resolves at the next write (or read) of `abs` (make it before the action). */
  next(op: 'read' | 'write', abs: string): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ op, abs, resolve }));
  }
  async mkdirp(): Promise<void> {}
  async remove(abs: string): Promise<void> {
    this.files.delete(abs);
  }
  async freeBytes(): Promise<number> {
    return 10 * 1024 ** 3;
  }
}

/**
 * A Git that commits what `git commit --only` is given. `status` answers from `statusEntries`,
 * the changes the test made behind the watcher's back, less what has been committed since.
 */
class FakeGit implements Git {
  readonly root = ROOT;
  readonly gitDir = GITDIR;
  commits: string[][] = [];
  statusEntries: StatusEntry[] = [];
  statusCalls = 0;
  /** Every git command run, as argv. */
  steps: string[][] = [];
  /** The paths of each prefetchIndex call, with the commits made before it. */
  prefetched: { paths: string[]; commitsBefore: number }[] = [];
  prefetchIndex(paths: readonly string[]) {
    this.prefetched.push({ paths: [...paths], commitsBefore: this.commits.length });
  }
  async blocked() {
    return null;
  }
  async status() {
    this.statusCalls++;
    const committed = new Set(this.commits.flat());
    return this.statusEntries.filter((e) => !committed.has(e.path));
  }
  async ignored() {
    return new Set<string>();
  }
  async tracked() {
    return new Set<string>();
  }
  async trackedCount() {
    return 0;
  }
  async headBlob() {
    return null;
  }
  async headSha() {
    return this.commits.length ? `sha${this.commits.length}` : null;
  }
  private held: { until: Promise<void>; reached: () => void } | null = null;
  /** The next commit lands (HEAD moves), then waits for `until` before it returns; resolves when it has landed. */
  holdNextCommit(until: Promise<void>): Promise<void> {
    return new Promise((reached) => (this.held = { until, reached }));
  }
  async run(steps: GitStep[]) {
    for (const s of steps) {
      this.steps.push(s.args);
      if (!s.args.includes('commit')) continue;
      this.commits.push(String(s.stdin ?? '').split('\0').filter(Boolean).sort());
      const held = this.held;
      this.held = null;
      if (held) {
        held.reached();
        await held.until;
      }
    }
    return steps.map(() => ({ stdout: '', stderr: '' }));
  }
  async log() {
    return [];
  }
  async objectFormat() {
    return 'sha1' as const;
  }
  raw: GitRunner = async (args) => {
    throw new Error(`this fake runs no raw git (${args.join(' ')})`);
  };
  async close() {}
}

/** A watcher whose events the test sends; catch-up events can be scripted per restart. */
class FakeWatcher implements Watcher {
  onEvents: ((events: WatchEvent[]) => void) | null = null;
  since: WatchEvent[] = [];
  async subscribe(_s: StreamSpec, onEvents: (events: WatchEvent[]) => void): Promise<WatcherSubscription> {
    this.onEvents = onEvents;
    return { close: async () => void (this.onEvents = null) };
  }
  async writeSnapshot(): Promise<void> {}
  async eventsSince(): Promise<WatchEvent[]> {
    return this.since.splice(0);
  }
}

const noProcesses: ProcessTable = { list: async () => [] };
const noProbe: ProcProbe = { openFiles: async () => null, writeCounter: async () => null };

const CONFIG: ConfigInput = {
  debounce: { defaultMs: 1_000, rules: [], maxMs: 10_000, maxWaitMs: 60_000 },
  rateLimit: { maxPerHour: 1_000, maxPerDay: 10_000 },
  // Porcelain (`git commit --only`): the fake git records the commit's paths from one step.
  commit: { hooks: true, notes: false },
  rescanMs: 60_000,
};

interface World {
  clock: ManualClock;
  fs: FakeFs;
  git: FakeGit;
  watcher: FakeWatcher;
  stateDir: string;
  logs: { msg: string; fields?: Record<string, unknown> }[];
}

async function world(t: TestContext): Promise<World> {
  const clock = new ManualClock();
  const stateDir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-service-'));
  t.after(() => rm(stateDir, { recursive: true, force: true }));
  return { clock, fs: new FakeFs(clock), git: new FakeGit(), watcher: new FakeWatcher(), stateDir, logs: [] };
}

interface Running {
  svc: Service;
  decisions: Decision[];
  /** Resolves with the next decision on `path` (make it before the action). */
  decided(path: string): Promise<Decision>;
  /** Resolves once `n` decisions have been made in all. */
  decisionCount(n: number): Promise<void>;
}

function service(w: World, t: TestContext, cfg: ConfigInput = {}, extra: Partial<ServiceDeps> = {}): Running {
  const config = mergeConfig({ ...CONFIG, ...cfg });
  const logger: Logger = { log: (_l, msg, fields) => void w.logs.push({ msg, ...(fields ? { fields } : {}) }) };
  const svc = createService({
    workspace: { root: ROOT, gitDir: GITDIR, stateDir: w.stateDir },
    config,
    rules: compileRules(parseRules('BLOCK:build/**:build output\n', 'test-rules'), 'ANALYZE'),
    configFile: null,
    clock: w.clock,
    scheduler: w.clock,
    logger,
    fs: w.fs,
    git: w.git,
    watcher: w.watcher,
    processes: noProcesses,
    trace: null,
    probe: noProbe,
    registry: null,
    ...extra,
  });
  const decisions: Decision[] = [];
  const waiters: ((d: Decision) => boolean)[] = [];
  svc.onDecision((d) => {
    decisions.push(d);
    for (const wt of [...waiters]) if (wt(d)) waiters.splice(waiters.indexOf(wt), 1);
  });
  t.after(() => svc.stop());
  return {
    svc,
    decisions,
    // A decision is announced before the service hands it to settle and arms the settle timer
    // (a few microtasks later, no I/O in between): let that happen before the test moves time.
    decided: (path) =>
      new Promise<Decision>((resolve) =>
        waiters.push((d) => {
          if (d.path !== path) return false;
          resolve(d);
          return true;
        }),
      ).then(async (d) => (await flushMicrotasks(), d)),
    decisionCount: (n) =>
      new Promise<void>((resolve) => {
        if (decisions.length >= n) return resolve();
        waiters.push(() => {
          if (decisions.length < n) return false;
          resolve();
          return true;
        });
      }).then(() => flushMicrotasks()),
  };
}

/**
 * A person's save: the file changes, the watcher reports it, and the service decides it. The
 * decision involves real I/O (the `winnow exec` registry, the pause file), so it is awaited, never
 * assumed done after some microtasks.
 */
async function save(w: World, r: Running, path: string, content: string): Promise<Decision> {
  const d = r.decided(path);
  w.fs.put(path, content);
  w.watcher.onEvents!([{ path, kind: 'update', stream: 'default', priority: 'normal', at: w.clock.now(), source: 'watch' }]);
  return d;
}

test('a save is committed once its quiet window closes, not before', async (t) => {
  const w = await world(t);
  const r = service(w, t);
  await r.svc.start();
  const d = await save(w, r, 'notes/a.md', 'one\n');
  assert.equal(d.decision, 'ALLOW');
  await w.clock.advance(900);
  assert.deepEqual(w.git.commits, [], 'nothing is committed inside the 1 s window');
  await w.clock.advance(200);
  await r.svc.onIdle();
  assert.deepEqual(w.git.commits, [['notes/a.md']]);
  assert.equal(r.svc.status().pending.length, 0, 'nothing left pending');
});

test("the person's index is read for accepted paths while they settle, not after their window closes (issue 14: 10–30 ms of each commit at 100k files)", async (t) => {
  const w = await world(t);
  const r = service(w, t);
  await r.svc.start();
  await save(w, r, 'notes/a.md', 'one\n');
  await w.clock.advance(0);
  await save(w, r, 'notes/b.md', 'two\n');
  await w.clock.advance(0);
  assert.deepEqual(
    w.git.prefetched.map((p) => p.paths.sort()),
    [['notes/a.md'], ['notes/a.md', 'notes/b.md']],
    'each read covers every path waiting, so the commit asks about none the read did not',
  );
  await w.clock.advance(1_100);
  await r.svc.onIdle();
  assert.deepEqual(w.git.commits, [['notes/a.md', 'notes/b.md']]);
  assert.ok(w.git.prefetched.every((p) => p.commitsBefore === 0), 'read before the commit');
});

test('start subscribes the watcher before it reads the catch-up, and a save made during the catch-up is committed', async (t) => {
  const w = await world(t);
  const calls: string[] = [];
  const live = w.watcher;
  const subscribe = live.subscribe.bind(live);
  live.subscribe = async (s, onEvents) => (calls.push('subscribe'), subscribe(s, onEvents));
  // @parcel/watcher answers the catch-up from the live watch's tree when there is one (at 100k
  // files: 20 MB less RSS and ~2 s less than a crawl of its own); and no save falls between the two.
  live.eventsSince = async () => {
    calls.push('eventsSince');
    w.fs.put('notes/during.md', 'saved during the catch-up\n');
    live.onEvents?.([{ path: 'notes/during.md', kind: 'update', stream: 'default', priority: 'normal', at: w.clock.now(), source: 'watch' }]);
    return [];
  };
  const r = service(w, t);
  const decided = r.decided('notes/during.md');
  await r.svc.start();
  assert.deepEqual(calls, ['subscribe', 'eventsSince']);
  assert.equal((await decided).decision, 'ALLOW');
  await w.clock.advance(1_100);
  await r.svc.onIdle();
  assert.deepEqual(w.git.commits, [['notes/during.md']]);
});

test('saves inside the window move it: one commit after the last save', async (t) => {
  const w = await world(t);
  const r = service(w, t);
  await r.svc.start();
  await save(w, r, 'notes/a.md', 'one\n');
  await w.clock.advance(600);
  await save(w, r, 'notes/a.md', 'two\n');
  await w.clock.advance(600);
  assert.deepEqual(w.git.commits, [], 'the second save restarted the window');
  assert.deepEqual(r.svc.status().pending.map((p) => p.path), ['notes/a.md']);
  await w.clock.advance(500);
  await r.svc.onIdle();
  assert.deepEqual(w.git.commits, [['notes/a.md']], 'one commit for both saves');
});

test('a blocked path is never committed; an accepted one next to it is', async (t) => {
  const w = await world(t);
  const r = service(w, t);
  await r.svc.start();
  w.fs.put('build/out.js', 'x');
  const blocked = r.decided('build/out.js');
  w.watcher.onEvents!([{ path: 'build/out.js', kind: 'update', stream: 'default', priority: 'normal', at: w.clock.now(), source: 'watch' }]);
  await save(w, r, 'notes/a.md', 'one\n');
  const d = await blocked;
  assert.equal(d.decision, 'BLOCK');
  assert.equal(d.layer, 1);
  await w.clock.advance(1_100);
  await r.svc.onIdle();
  assert.deepEqual(w.git.commits, [['notes/a.md']]);
  assert.equal(r.svc.status().decisions.BLOCK, 1);
});

test("in a storm of blocked paths, the person's save is classified first and committed on time", async (t) => {
  const w = await world(t);
  const r = service(w, t);
  await r.svc.start();
  const at = w.clock.now();
  const storm: WatchEvent[] = Array.from({ length: 5_000 }, (_, i) => ({
    path: `build/f${i}.js`,
    kind: 'update' as const,
    stream: 'default',
    priority: 'normal' as const,
    at,
    source: 'watch' as const,
  }));
  w.fs.put('notes/a.md', 'mine\n');
  const all = r.decisionCount(5_001);
  // The person's save arrives last, behind 5,000 blocked paths.
  w.watcher.onEvents!([...storm, { path: 'notes/a.md', kind: 'update', stream: 'default', priority: 'normal', at, source: 'watch' }]);
  await all;
  const pos = r.decisions.findIndex((d) => d.path === 'notes/a.md');
  assert.ok(pos >= 0 && pos < 1_000, `decided in the first chunk (position ${pos})`);
  assert.equal(new Set(r.decisions.map((d) => d.path)).size, 5_001, 'every path decided once');
  await w.clock.advance(1_100);
  await r.svc.onIdle();
  assert.deepEqual(w.git.commits, [['notes/a.md']]);
});

test('after start-up the private index is not built: no read-tree while nothing is committed (issue 14, idle CPU at 100k files)', async (t) => {
  const w = await world(t);
  // The plumbing strategy, which commits through the private index when the direct-tree path falls back.
  const r = service(w, t, { commit: { hooks: false, notes: false } });
  await r.svc.start();
  await r.svc.onIdle();
  assert.deepEqual(
    w.git.steps.filter((a) => a.includes('read-tree')),
    [],
    'no read-tree of HEAD into the private index after ready',
  );
});

test('a change the watcher missed is found by the reconciling rescan and committed', async (t) => {
  const w = await world(t);
  const r = service(w, t);
  await r.svc.start();
  // The watcher reports one save; a second file changed in the same moment was dropped by it.
  w.fs.put('notes/missed.md', 'dropped event\n');
  w.fs.put('notes/staged.md', 'staged\n');
  w.git.statusEntries = [
    { path: 'notes/a.md', code: '??' },
    { path: 'notes/missed.md', code: '??' },
    // Staged by hand and untouched since: left to the person.
    { path: 'notes/staged.md', code: 'A ' },
  ];
  const missed = r.decided('notes/missed.md');
  await save(w, r, 'notes/a.md', 'one\n');
  const before = w.git.statusCalls;
  // The reconcile runs once watcher activity has been quiet, and at most every 5 s
  // (core/watch/rescan-schedule.ts): the start-up rescan was at 0.
  await w.clock.advance(4_900);
  assert.equal(w.git.statusCalls, before, 'no rescan within 5 s of the last');
  await w.clock.advance(100);
  assert.equal(w.git.statusCalls, before + 1, 'one rescan after the activity');
  assert.equal((await missed).decision, 'ALLOW');
  await w.clock.advance(1_000);
  await r.svc.onIdle();
  assert.deepEqual(w.git.commits, [['notes/a.md'], ['notes/missed.md']], 'the save, then what the rescan found');
  assert.ok(!r.decisions.some((d) => d.path === 'notes/staged.md'), 'a path staged by hand is not classified');
});

test('the periodic rescan finds changes while the watcher is silent', async (t) => {
  const w = await world(t);
  const r = service(w, t);
  await r.svc.start();
  w.fs.put('docs/quiet.md', 'written while the watcher was not looking\n');
  w.git.statusEntries = [{ path: 'docs/quiet.md', code: '??' }];
  const d = r.decided('docs/quiet.md');
  await w.clock.advance(60_000);
  await d;
  await w.clock.advance(1_100);
  await r.svc.onIdle();
  assert.deepEqual(w.git.commits, [['docs/quiet.md']]);
  assert.ok(r.svc.status().watcher.lastRescan, 'status names the last rescan');
});

test('after a restart, accepted changes not yet committed are replayed and committed', async (t) => {
  const w = await world(t);
  const first = service(w, t);
  await first.svc.start();
  await save(w, first, 'notes/a.md', 'one\n');
  await w.clock.advance(300);
  await first.svc.stop();
  assert.deepEqual(w.git.commits, [], 'stopped inside the window: nothing committed yet');
  const saved = JSON.parse(w.fs.files.get(`${w.stateDir}/pending.json`)!.content.toString('utf8')) as { path: string }[];
  assert.deepEqual(saved.map((p) => p.path), ['notes/a.md'], 'pending.json holds the accepted path');

  // The restarted daemon's rescan does not see the file as changed: only pending.json knows it.
  const second = service(w, t);
  await second.svc.start();
  assert.deepEqual(second.svc.status().pending.map((p) => p.path), ['notes/a.md']);
  await w.clock.advance(1_100);
  await second.svc.onIdle();
  assert.deepEqual(w.git.commits, [['notes/a.md']]);
});

test('a second service on the same workspace refuses to start', async (t) => {
  const w = await world(t);
  const first = service(w, t);
  await first.svc.start();
  const second = service(w, t);
  await assert.rejects(second.svc.start(), /already running/);
});

test('a pause signal in the state dir holds commits until it is dropped', async (t) => {
  const w = await world(t);
  const r = service(w, t);
  await r.svc.start();
  // Written to the disk the service was given, so the fake clock decides when it expires.
  const pause = `${w.stateDir}/pause`;
  await w.fs.writeFileAtomic(pause, formatPause({ pid: 4242, at: w.clock.now(), reason: 'a person reviewing' }));
  await save(w, r, 'notes/a.md', 'one\n');
  // Due at 1 s; the committer looks again every 2 s while paused.
  await w.clock.advance(5_000);
  assert.deepEqual(w.git.commits, [], 'due, but the pause holds it');
  assert.match(JSON.stringify(r.svc.status()), /paus/i, 'status says why it waits');
  await w.fs.remove(pause);
  await w.clock.advance(5_000);
  await r.svc.onIdle();
  assert.deepEqual(w.git.commits, [['notes/a.md']], 'committed once the pause is gone');
});

// `winnow restore` once looked at HEAD and the person's index while the daemon's commit had moved
// the one and not yet the other. It now waits for held.json to name its pause: written only once
// the commit in flight is done, and never taken from an earlier pause.
test('a pause raised while a commit is in flight is acknowledged in held.json once that commit is done, naming that pause', async (t) => {
  const w = await world(t);
  let stateDirEvent!: (name: string) => void;
  const r = service(w, t, {}, { watchStateDir: (on) => ((stateDirEvent = on), () => undefined) });
  await r.svc.start();
  const pauseFile = `${w.stateDir}/pause`;
  const heldFile = `${w.stateDir}/held.json`;
  const release = gate();
  const landed = w.git.holdNextCommit(release.promise);
  await save(w, r, 'notes/a.md', 'one\n');
  await w.clock.advance(1_100);
  await landed;

  const first = { pid: 4242, at: w.clock.now(), reason: 'winnow restore notes/a.md' };
  const read = w.fs.next('read', pauseFile);
  let acked = w.fs.next('write', heldFile);
  await w.fs.writeFileAtomic(pauseFile, formatPause(first));
  stateDirEvent('pause');
  await read;
  await flushMicrotasks();
  assert.equal(await w.fs.stat(heldFile), null, 'no answer while the commit is in flight');
  release.resolve();
  await acked;
  assert.ok(w.logs.some((l) => l.msg === 'commit'), 'the commit was done and logged first');
  await flushMicrotasks();
  assert.ok(w.logs.some((l) => l.msg === 'pause acknowledged'));
  const ack = JSON.parse((await w.fs.readFile(heldFile)).toString('utf8')) as { pause: unknown; daemon: number };
  assert.deepEqual(ack.pause, { pid: 4242, at: first.at });
  assert.equal(ack.daemon, process.pid);

  // The next pause is answered for itself, at once: nothing is in flight.
  await w.fs.remove(pauseFile);
  stateDirEvent('pause');
  await w.clock.advance(10);
  const second = { pid: 4243, at: w.clock.now(), reason: 'winnow squash' };
  acked = w.fs.next('write', heldFile);
  await w.fs.writeFileAtomic(pauseFile, formatPause(second));
  stateDirEvent('pause');
  await acked;
  assert.deepEqual((JSON.parse((await w.fs.readFile(heldFile)).toString('utf8')) as { pause: unknown }).pause, { pid: 4243, at: second.at });
});

/** A promise the test settles, and whether it has been asked for. */
function gate<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

test('start takes daemon.lock while the writer evidence starts, and subscribes the watcher only once the evidence is up', async (t) => {
  const w = await world(t);
  const evidence = gate();
  const calls: string[] = [];
  const subscribe = w.watcher.subscribe.bind(w.watcher);
  w.watcher.subscribe = async (s, onEvents) => (calls.push('subscribe'), subscribe(s, onEvents));
  const asked = gate();
  // The state is read from the state dir once daemon.lock is held.
  const loading = gate();
  const readFile = w.fs.readFile.bind(w.fs);
  w.fs.readFile = (abs) => (abs.endsWith('pending.json') && loading.resolve(), readFile(abs));
  const r = service(w, t, {}, {
    startEvidence: () => {
      calls.push('evidence');
      asked.resolve();
      return evidence.promise;
    },
  });
  const started = r.svc.start();
  await Promise.race([asked.promise, started.then(() => assert.fail('start never started the writer evidence'))]);
  // fatrace and forkstat each wait for their tool's first event: daemon.lock is taken meanwhile.
  await loading.promise;
  assert.ok(existsSync(join(w.stateDir, 'daemon.lock')), 'daemon.lock is taken while the evidence is starting');
  assert.deepEqual(calls, ['evidence'], 'the watcher waits for the evidence: every write it reports was traced');
  evidence.resolve();
  await started;
  assert.deepEqual(calls, ['evidence', 'subscribe']);
});

test('when the writer evidence cannot start, start fails and daemon.lock is let go', async (t) => {
  const w = await world(t);
  const r = service(w, t, {}, { startEvidence: async () => Promise.reject(new Error('fanotify is "on" but cannot run')) });
  await assert.rejects(r.svc.start(), /fanotify is "on"/);
  assert.equal(existsSync(join(w.stateDir, 'daemon.lock')), false, 'daemon.lock released');
  const again = service(w, t);
  await again.svc.start();
});

test("layer 2's first look runs while the watcher subscribes, and a change reported meanwhile is decided after it", async (t) => {
  const w = await world(t);
  const subscribed = gate<WatcherSubscription>();
  const subscribing = gate();
  const live = w.watcher;
  live.subscribe = (_s, onEvents) => {
    live.onEvents = onEvents;
    subscribing.resolve();
    return subscribed.promise;
  };
  let subscribePending = false;
  const subscribeCall = live.subscribe;
  live.subscribe = (s, onEvents) => ((subscribePending = true), subscribeCall(s, onEvents));
  const listed = gate<boolean>();
  const processes: ProcessTable = {
    list: async () => {
      listed.resolve(subscribePending);
      return [];
    },
  };
  const r = service(w, t, {}, { processes });
  const decided = r.decided('notes/early.md');
  const started = r.svc.start();
  await subscribing.promise;
  // The crawl of a large tree takes seconds in the watcher's own thread: layer 2's baseline is
  // taken meanwhile, not after it.
  assert.equal(await listed.promise, true, 'the process table was read while subscribe was still crawling');
  w.fs.put('notes/early.md', 'saved while the watcher subscribed\n');
  live.onEvents!([{ path: 'notes/early.md', kind: 'update', stream: 'default', priority: 'normal', at: w.clock.now(), source: 'watch' }]);
  subscribed.resolve({ close: async () => void (live.onEvents = null) });
  await started;
  assert.equal((await decided).decision, 'ALLOW');
  await w.clock.advance(1_100);
  await r.svc.onIdle();
  assert.deepEqual(w.git.commits, [['notes/early.md']]);
});
