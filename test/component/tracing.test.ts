/**
 * Rung 2 in the daemon (src/daemon/classify/tracing.ts) on a fake tracer and a manual clock: what
 * a traced write, a late attach and the new-process poll mean for a path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessTracing, NEW_PROCESS_POLL_MS, type TraceQuery } from '../../src/daemon/classify/tracing.js';
import type { AutonomousProc } from '../../src/core/classify/ownership.js';
import type { ProcessTracer, TracedWriteRecord } from '../../src/ports/index.js';
import { ManualClock } from '../helpers/clock.js';

const ROOT = '/ws';

class FakeTracer implements ProcessTracer {
  writes: (TracedWriteRecord & { rel: string })[] = [];
  /** PID → tracer PID (0: untraced). */
  tracers = new Map<number, number>();
  attaches: number[][] = [];
  constructor(private readonly clock: ManualClock) {}
  async sync(): Promise<void> {}
  writesOf(path: string, since: number): TracedWriteRecord[] {
    return this.writes.filter((w) => w.rel === path && w.at >= since);
  }
  tracerOf(pid: number): number | null {
    return this.tracers.get(pid) ?? 0;
  }
  isOurTracer(pid: number): boolean {
    return pid === 999;
  }
  available(): { ok: true } {
    return { ok: true };
  }
  otherUser(): boolean {
    return false;
  }
  attachPermitted(): { ok: true } {
    return { ok: true };
  }
  async attach(pids: number[]): Promise<{ attached: number[] }> {
    this.attaches.push(pids);
    for (const p of pids) this.tracers.set(p, 999);
    return { attached: pids };
  }
  async stop(): Promise<void> {}
  write(pid: number, rel: string): void {
    this.writes.push({ pid, at: this.clock.now(), call: 'openat', paths: [`${ROOT}/${rel}`], rel });
  }
}

function setup(opts: { counters?: Map<number, number>; starts?: Map<number, number> } = {}) {
  const clock = new ManualClock();
  const tracer = new FakeTracer(clock);
  const counters = opts.counters ?? new Map<number, number>();
  const starts = opts.starts ?? new Map<number, number>();
  const tracing = new ProcessTracing({
    tracer,
    mode: 'on',
    fanotifyActive: () => false,
    lineageActive: () => false,
    execRegistrations: async () => [],
    probe: { writeCounter: async (pid) => counters.get(pid) ?? 0, startedAt: async (pid) => starts.get(pid) ?? null },
    scheduler: clock,
    clock,
    logger: { log() {} },
  });
  const agent = (pid: number): Map<number, AutonomousProc> => new Map([[pid, { cmd: 'claude-agent', why: 'command matches /claude/' }]]);
  const q = (path: string, wroteAt: number, kind: TraceQuery['kind'] = 'update'): TraceQuery => ({ path, at: clock.now(), wroteAt, mtime: kind === 'delete' ? null : wroteAt, kind });
  return { clock, tracer, tracing, agent, q, counters, starts };
}

test('a write seen twice (a create and its data in two watcher batches), or its data landing late, is still the traced agent\'s; a later save of the person is not', async () => {
  const { clock, tracer, tracing, agent, q } = setup();
  const set = agent(50);
  await tracing.cover(set); // attached before anything is written
  await clock.advance(1_000);
  tracer.write(50, 'a.md');
  const wrote = clock.now();
  await clock.advance(30);
  let v = await tracing.judge([q('a.md', wrote)], set, 2_000);
  assert.equal(v.traced.get('a.md')!.writes.length, 1);
  // The second event of the same write: the file has not changed since the first judgement.
  await clock.advance(120);
  v = await tracing.judge([q('a.md', wrote)], set, 2_000);
  assert.equal(v.traced.get('a.md')!.writes.length, 1, 'the same write, seen again, is still the agent\'s');
  // The data of the open may land well after the open is recorded (strace resumes the writer
  // late under load): still the agent's.
  v = await tracing.judge([q('a.md', wrote + 700)], set, 2_000);
  assert.equal(v.traced.get('a.md')!.writes.length, 1, 'data landing 700 ms after the traced open');
  // The person saves the file seconds later (no traced write): theirs.
  await clock.advance(2_000);
  const saved = clock.now();
  await clock.advance(20);
  v = await tracing.judge([q('a.md', saved)], set, 2_000);
  assert.deepEqual(v.traced.get('a.md')!.writes, []);
  assert.equal(v.traced.get('a.md')!.covered, true);
});

test('a new agent attached only after its first write: that write is unknown (late), not a person\'s', async () => {
  const counters = new Map([[60, 4096]]);
  const { clock, tracing, agent, q, starts } = setup({ counters });
  await clock.advance(5_000);
  starts.set(60, clock.now());
  await clock.advance(10);
  const wrote = clock.now(); // the agent writes at once, before anyone attached
  await clock.advance(40);
  const v = await tracing.judge([q('early.md', wrote)], agent(60), 2_000);
  const t = v.traced.get('early.md')!;
  assert.equal(t.covered, false);
  assert.equal(t.late?.[0]?.pid, 60);
  assert.match(t.late![0]!.detail, /4096 bytes/);
  // Once attached, its later writes are traced, and a write no traced process made is a person's.
  await clock.advance(1_000);
  const later = clock.now();
  await clock.advance(20);
  const v2 = await tracing.judge([q('person.md', later)], agent(60), 2_000);
  assert.equal(v2.traced.get('person.md')!.covered, true);
  assert.equal(v2.traced.get('person.md')!.late, undefined);
});

test('a late-attached agent that had written no file byte, or started after the write, leaves the write to the person', async () => {
  const counters = new Map([[70, 0]]);
  const { clock, tracing, agent, q, starts } = setup({ counters });
  await clock.advance(5_000);
  const wrote = clock.now();
  starts.set(70, wrote - 1_000);
  await clock.advance(50);
  let v = await tracing.judge([q('mine.md', wrote)], agent(70), 2_000);
  assert.equal(v.traced.get('mine.md')!.covered, true, 'no bytes written before the attach');
  // A deletion writes no bytes: the same agent could have made it.
  const del = setup({ counters: new Map([[71, 0]]) });
  await del.clock.advance(5_000);
  const gone = del.clock.now();
  await del.clock.advance(50);
  v = await del.tracing.judge([del.q('old.md', gone, 'delete')], del.agent(71), 2_000);
  assert.equal(v.traced.get('old.md')!.late?.[0]?.pid, 71);
  // Started after the write: not its writer, whatever it wrote since.
  const after = setup({ counters: new Map([[72, 8192]]) });
  await after.clock.advance(5_000);
  const w = after.clock.now();
  after.starts.set(72, w + 200);
  await after.clock.advance(300);
  v = await after.tracing.judge([after.q('x.md', w)], after.agent(72), 2_000);
  assert.equal(v.traced.get('x.md')!.covered, true);
});

test('the poll attaches to a new autonomous process without waiting for a decision, and stops on close', async () => {
  const { clock, tracer, tracing, agent } = setup();
  let set = new Map<number, AutonomousProc>();
  tracing.startPolling(async () => set);
  await clock.advance(NEW_PROCESS_POLL_MS);
  assert.deepEqual(tracer.attaches, []);
  set = agent(80);
  await clock.advance(NEW_PROCESS_POLL_MS);
  assert.deepEqual(tracer.attaches, [[80]]);
  // Known now: the next poll attaches nothing more.
  await clock.advance(NEW_PROCESS_POLL_MS);
  assert.deepEqual(tracer.attaches, [[80]]);
  tracing.stopPolling();
  assert.equal(clock.pendingTimers, 0);
});
