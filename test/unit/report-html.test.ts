import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latencyChart, renderHtml } from '../../src/bench/report-html.js';
import { sampleReport } from '../helpers/bench-report.js';
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

test('latency chart: p50 and p95 labels never overprint, however close the bars', () => {
  // 556 and 602 ms on a 2500 ms axis are 8 px apart: centred labels 14 px wide overlapped.
  const svg = latencyChart(sampleReport().runs);
  const labels = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" font-size="9" text-anchor="(\w+)" fill="#111">(p50|p95)<\/text>/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    anchor: m[3],
    label: m[4],
  }));
  assert.ok(labels.length >= 14, `labels found: ${labels.length}`);
  for (const p50 of labels.filter((l) => l.label === 'p50')) {
    const p95 = labels.find((l) => l.label === 'p95' && l.y === p50.y);
    if (!p95) continue;
    assert.equal(p50.anchor, 'end', 'p50 label ends at its bar');
    assert.equal(p95.anchor, 'start', 'p95 label starts at its bar');
    assert.ok(p50.x < p95.x, `p50 label at ${p50.x} is left of p95 label at ${p95.x}`);
  }
});

test('results table: the cell of a failed check is marked, and the change counts are not named like CPU time', () => {
  const html = renderHtml(sampleReport());
  const row = /<tr><td>event-storm[^]*?<\/tr>/.exec(html)![0];
  assert.match(row, /<td class="bad">1122<\/td>/, 'the p95 that failed its check');
  assert.match(row, /title="a check failed">✗/);
  const fine = /<tr><td>editor-saves[^]*?<\/tr>/.exec(html)![0];
  assert.doesNotMatch(fine, /class="bad"/);
  assert.match(html, /<th>user changes<\/th><th>system changes<\/th>/);
  assert.doesNotMatch(html, /<th>(user|sys|system)<\/th>/);
});

test('churn chart: a log axis, so 1–4 committed changes show next to 20,000', () => {
  const html = renderHtml(sampleReport());
  const svg = /<svg[^>]*aria-label="churn committed"[^]*?<\/svg>/.exec(html)![0];
  const width = (title: string) => Number(new RegExp(`<rect x="\\d+" y="[\\d.]+" width="([\\d.]+)" height="\\d+" fill="[^"]+"><title>${title}</title>`).exec(svg)![1]);
  const plotW = 760 - 190 - 60;
  // gitwatch committed 1 churn change on idle-10k's writes and 20,000 on event-storm's.
  assert.ok(width('gitwatch: churn committed: 1') > 0.05 * plotW, `a bar of 1 is ${width('gitwatch: churn committed: 1')} px`);
  assert.ok(width('gitwatch: churn committed: 20000') <= plotW + 0.5);
  assert.match(svg, />10k</, 'log ticks');
});
