/**
 * startEvidence: fatrace and forkstat start at once (each waits for its tool's first event), and
 * lineage runs only beside an active fanotify trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEvidence, type EvidenceLineage, type EvidenceTrace } from '../../src/daemon/lifecycle/evidence-start.js';
import type { Logger, TraceState } from '../../src/ports/index.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function fakes() {
  const log: string[] = [];
  const traceStart = deferred<TraceState>();
  const lineageStart = deferred<{ active: true } | { active: false; reason: string }>();
  let state: TraceState = { mode: 'unavailable', reason: 'not started' };
  const trace: EvidenceTrace = {
    start: () => (log.push('trace.start'), traceStart.promise.then((s) => (state = s))),
    state: () => state,
    stop: async () => void log.push('trace.stop'),
  };
  const lineage: EvidenceLineage = {
    start: () => (log.push('lineage.start'), lineageStart.promise),
    stop: async () => void log.push('lineage.stop'),
  };
  const logger: Logger = { log: (_l, msg) => void log.push(msg) };
  return { log, trace, lineage, logger, traceStart, lineageStart };
}

test('fatrace and forkstat are started together, not one after the other', async () => {
  const f = fakes();
  const done = startEvidence(f.trace, f.lineage, f.logger);
  await Promise.resolve();
  assert.deepEqual(f.log.sort(), ['lineage.start', 'trace.start'], 'both asked to start before either has answered');
  f.traceStart.resolve({ mode: 'active' });
  f.lineageStart.resolve({ active: true });
  await done;
  assert.deepEqual(f.log.sort(), ['lineage.start', 'trace.start'], 'nothing stopped');
});

test('lineage is stopped when the fanotify trace is not active', async () => {
  const f = fakes();
  const done = startEvidence(f.trace, f.lineage, f.logger);
  f.lineageStart.resolve({ active: true });
  f.traceStart.resolve({ mode: 'unavailable', reason: 'fatrace is not installed' });
  await done;
  assert.ok(f.log.includes('lineage.stop'));
});

test('a trace that must run and cannot rejects, and lineage is stopped', async () => {
  const f = fakes();
  const done = startEvidence(f.trace, f.lineage, f.logger);
  f.lineageStart.resolve({ active: true });
  f.traceStart.reject(new Error('autonomous.fanotify is "on" but the fanotify trace cannot run'));
  await assert.rejects(done, /"on" but/);
  assert.ok(f.log.includes('lineage.stop'));
});

test('lineage that cannot start is reported, and the trace runs without it', async () => {
  const f = fakes();
  const done = startEvidence(f.trace, f.lineage, f.logger);
  f.lineageStart.resolve({ active: false, reason: 'forkstat is not installed' });
  f.traceStart.resolve({ mode: 'active' });
  await done;
  assert.ok(f.log.includes('process lineage unavailable; a writer that exits before it is looked up is unknown'));
  assert.ok(!f.log.includes('trace.stop'));
});

test('no trace and no lineage: nothing to start', async () => {
  await startEvidence(null, null, { log: () => undefined });
});
