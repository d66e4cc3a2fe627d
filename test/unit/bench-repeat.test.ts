import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate, median, worst } from '../../src/bench/repeat.js';
import type { BenchResult } from '../../src/bench/metrics.js';

const run = (p95: number | null, recall: number, rss: number, fn = 0): BenchResult => ({
  scenario: 's',
  accuracy: { userChanges: 4, systemChanges: 10, falsePositives: 0, falseNegatives: fn, precision: 1, recall },
  latency: { p50Ms: 10, p95Ms: p95, p99Ms: p95, maxMs: p95 },
  commits: 4,
  loops: 0,
  resources: { cpuPercent: 1, rssMb: rss },
  layers: { l1NsPerPath: null, l2UsPerCheck: null, l3UsPer1kJson: null, l3UsPer100kJson: null },
  baseline: { commits: 7, falseNegatives: 3 },
});

test('median and worst: odd and even counts, nulls left out, all-null stays null', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(median([null, 5, undefined]), 5);
  assert.equal(median([null, null]), null);
  assert.equal(worst('latency.p95Ms', [3, 9, 1]), 9);
  assert.equal(worst('accuracy.recall', [1, 0.9, 1]), 0.9, 'lower is worse for recall');
  assert.equal(worst('x', []), null);
});

test('aggregate: figure by figure, the scenario name kept, the worst run of each figure (not one whole run)', () => {
  const { median: m, worst: w } = aggregate([run(700, 1, 60), run(900, 0.8, 58, 1), run(650, 1, 75), run(null, 1, 61), run(720, 1, 62)]);
  assert.equal(m.scenario, 's');
  assert.equal(m.latency.p95Ms, 710, 'median of the four measured');
  assert.equal(w.latency.p95Ms, 900);
  assert.equal(m.resources.rssMb, 61);
  assert.equal(w.resources.rssMb, 75, 'from another run than the worst latency');
  assert.equal(w.accuracy.recall, 0.8);
  assert.equal(w.accuracy.falseNegatives, 1);
  assert.equal(m.layers.l2UsPerCheck, null);
  assert.deepEqual(Object.keys(m).sort(), Object.keys(run(1, 1, 1)).sort(), 'the same shape as one result');
});
