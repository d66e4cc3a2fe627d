import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latencyChart } from '../../src/bench/report-html.js';
import type { ScenarioRun } from '../../src/bench/runner.js';

const run = (scenario: string, latenciesMs: number[], p50Ms: number, p95Ms: number): ScenarioRun =>
  ({ result: { scenario, latency: { p50Ms, p95Ms } }, detail: { latenciesMs, settleMs: 500 } }) as unknown as ScenarioRun;

const dotsX = (svg: string) => [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
const axisEnd = (svg: string) => Number(/>(\d+) ms<\/text>/.exec(svg)![1]);

test('latency chart: one scenario that waits for seconds does not squeeze the others; what lies beyond the axis is named', () => {
  const svg = latencyChart([run('editor-saves', [550, 580, 600], 580, 600), run('rate-limit', [700, 2875, 8446], 2875, 8446)]);
  // Three times the 750 ms target, rounded up to a nice number: 2250 → 2500 ms.
  assert.equal(axisEnd(svg), 2500);
  assert.match(svg, /2 beyond, to 8446 ms/);
  assert.match(svg, />p50 2875, p95 8446 ms</);
  // The fast scenario's dots are spread over the plot (x from 190 to 620), not piled at its start.
  const xs = dotsX(svg).slice(0, 3);
  assert.ok(xs.every((x) => x > 190 + 0.2 * 430), `dots at ${xs.join(', ')}`);
  // Without an outlier the axis fits the data, and nothing is "beyond".
  const plain = latencyChart([run('editor-saves', [550, 580, 600], 580, 600)]);
  assert.equal(axisEnd(plain), 1000);
  assert.doesNotMatch(plain, /beyond/);
});
