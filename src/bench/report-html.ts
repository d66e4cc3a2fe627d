/**
 * The bench report as one self-contained HTML page: inline CSS and SVG charts, no scripts, no
 * external assets, so it can be mailed or attached to a CI run as-is.
 */
import type { BenchReport, ScenarioRun } from './runner.js';
import type { BenchResult } from './metrics.js';

const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmt = (v: number | null | undefined, d = 0) => (v === null || v === undefined ? '—' : d ? v.toFixed(d) : String(Math.round(v)));

const W = 760;
const LEFT = 190;
const COLORS = { winnow: '#2f6fdf', baseline: '#c8553d', fp: '#d08c00', fn: '#c8553d', ok: '#2a9d5c', grid: '#ddd', text: '#333' };

function niceMax(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function axis(max: number, width: number, y0: number, y1: number, unit: string): string {
  const ticks = 5;
  let s = '';
  for (let i = 0; i <= ticks; i++) {
    const v = (max / ticks) * i;
    const x = LEFT + (width * i) / ticks;
    s += `<line x1="${x}" y1="${y0}" x2="${x}" y2="${y1}" stroke="${COLORS.grid}"/>`;
    s += `<text x="${x}" y="${y1 + 14}" font-size="11" text-anchor="middle" fill="${COLORS.text}">${esc(fmt(v, v < 10 && max < 10 ? 1 : 0))}${i === ticks ? ` ${esc(unit)}` : ''}</text>`;
  }
  return s;
}

/**
 * Each latency sample as a dot on one row per scenario, with p50, p95 and the target marked.
 * The axis ends at three times the largest target: a scenario that waits on purpose (rate-limit's
 * cap, seconds) would otherwise squeeze every other row into its first tenth. Samples beyond the
 * axis sit on its end, and the row says how many there are and how far they go.
 */
export function latencyChart(runs: ScenarioRun[]): string {
  const rowH = 34;
  const plotW = W - LEFT - 140;
  const targets = runs.map((r) => r.detail.settleMs + 250);
  const all = runs.flatMap((r) => r.detail.latenciesMs);
  const max = niceMax(Math.min(Math.max(1, ...all, ...targets), 3 * Math.max(1, ...targets)));
  const h = runs.length * rowH + 40;
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" role="img" aria-label="latency distribution">`;
  s += axis(max, plotW, 10, h - 28, 'ms');
  runs.forEach((r, i) => {
    const y = 10 + i * rowH + rowH / 2;
    const x = (v: number) => LEFT + (Math.min(v, max) / max) * plotW;
    s += `<text x="${LEFT - 8}" y="${y + 4}" font-size="12" text-anchor="end" fill="${COLORS.text}">${esc(r.result.scenario)}</text>`;
    const target = r.detail.settleMs + 250;
    s += `<line x1="${x(target)}" y1="${y - 12}" x2="${x(target)}" y2="${y + 12}" stroke="${COLORS.ok}" stroke-dasharray="3,2"><title>target p95 ≤ ${target} ms</title></line>`;
    r.detail.latenciesMs.forEach((v, k) => {
      const jitter = ((k * 7) % 9) - 4;
      s += `<circle cx="${x(v).toFixed(1)}" cy="${y + jitter}" r="3" fill="${COLORS.winnow}" fill-opacity="0.45"><title>${esc(v)} ms</title></circle>`;
    });
    for (const [label, v] of [['p50', r.result.latency.p50Ms], ['p95', r.result.latency.p95Ms]] as const) {
      if (v === null) continue;
      s += `<line x1="${x(v)}" y1="${y - 10}" x2="${x(v)}" y2="${y + 10}" stroke="#111" stroke-width="2"><title>${label} ${v} ms</title></line>`;
      // p50 ≤ p95: p50's label ends left of its bar, p95's starts right of its own, so the two
      // never overprint however close the bars are.
      const left = label === 'p50';
      if (v <= max) s += `<text x="${(x(v) + (left ? -2 : 2)).toFixed(1)}" y="${y - 10}" font-size="9" text-anchor="${left ? 'end' : 'start'}" fill="#111">${label}</text>`;
    }
    const beyond = r.detail.latenciesMs.filter((v) => v > max);
    if (beyond.length) {
      const far = [['p50', r.result.latency.p50Ms], ['p95', r.result.latency.p95Ms]].filter(([, v]) => v !== null && (v as number) > max);
      const right = LEFT + plotW + 8;
      s += `<text x="${right}" y="${y - 2}" font-size="9" fill="${COLORS.text}">${beyond.length} beyond, to ${esc(fmt(Math.max(...beyond)))} ms<title>${esc(beyond.join(', '))} ms</title></text>`;
      if (far.length) s += `<text x="${right}" y="${y + 10}" font-size="9" fill="#111">${esc(far.map(([l, v]) => `${l} ${fmt(v as number)}`).join(', '))} ms</text>`;
    }
    if (r.detail.latenciesMs.length === 0) s += `<text x="${LEFT + 6}" y="${y + 4}" font-size="11" fill="#888">no samples</text>`;
  });
  return s + '</svg>';
}

/** Ticks of a log axis: 0, 1, 10, 100, … up to the first power of ten at or above max. */
function logAxis(max: number, width: number, y0: number, y1: number, unit: string, scale: (v: number) => number): string {
  let s = '';
  const ticks = [0];
  for (let t = 1; ticks[ticks.length - 1]! < max; t *= 10) ticks.push(t);
  ticks.forEach((v, i) => {
    const x = LEFT + scale(v) * width;
    s += `<line x1="${x}" y1="${y0}" x2="${x}" y2="${y1}" stroke="${COLORS.grid}"/>`;
    s += `<text x="${x}" y="${y1 + 14}" font-size="11" text-anchor="middle" fill="${COLORS.text}">${esc(v >= 1000 ? `${v / 1000}k` : String(v))}${i === ticks.length - 1 && unit ? ` ${esc(unit)}` : ''}</text>`;
  });
  return s;
}

/**
 * Horizontal grouped bars: one group per scenario, one bar per series. `log`: a log10(1 + v)
 * axis, for series whose values run from 1 to tens of thousands (a linear axis hides the 1s).
 */
function groupedBars(
  runs: ScenarioRun[],
  series: { name: string; color: string; value: (r: ScenarioRun) => number }[],
  unit: string,
  label: string,
  opts: { log?: boolean } = {},
): string {
  const barH = 12;
  const groupH = series.length * barH + 14;
  const plotW = W - LEFT - 60;
  const top = Math.max(1, ...runs.flatMap((r) => series.map((se) => se.value(r))));
  const max = opts.log ? 10 ** Math.ceil(Math.log10(top)) : niceMax(top);
  const scale = (v: number) => (opts.log ? Math.log10(1 + Math.max(0, v)) / Math.log10(1 + max) : v / max);
  const h = runs.length * groupH + 56;
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" role="img" aria-label="${esc(label)}">`;
  s += opts.log ? logAxis(max, plotW, 10, h - 44, unit, scale) : axis(max, plotW, 10, h - 44, unit);
  runs.forEach((r, i) => {
    const y0 = 10 + i * groupH + 4;
    s += `<text x="${LEFT - 8}" y="${y0 + (series.length * barH) / 2 + 4}" font-size="12" text-anchor="end" fill="${COLORS.text}">${esc(r.result.scenario)}</text>`;
    series.forEach((se, k) => {
      const v = se.value(r);
      const w = scale(v) * plotW;
      const y = y0 + k * barH;
      s += `<rect x="${LEFT}" y="${y}" width="${Math.max(v > 0 ? 1 : 0, w).toFixed(1)}" height="${barH - 2}" fill="${se.color}"><title>${esc(se.name)}: ${esc(v)}</title></rect>`;
      s += `<text x="${LEFT + w + 4}" y="${y + barH - 3}" font-size="10" fill="${COLORS.text}">${esc(fmt(v, Number.isInteger(v) ? 0 : 3))}</text>`;
    });
  });
  series.forEach((se, k) => {
    const x = LEFT + k * 170;
    s += `<rect x="${x}" y="${h - 18}" width="10" height="10" fill="${se.color}"/><text x="${x + 14}" y="${h - 9}" font-size="11" fill="${COLORS.text}">${esc(se.name)}</text>`;
  });
  return s + '</svg>';
}

export function renderHtml(report: BenchReport): string {
  const runs = report.runs;
  const rows = runs
    .map(({ result: r, detail: d }) => {
      // A cell is marked when a check on its column failed (or, for counts of errors, is not 0).
      const failed = new Set(d.checks.filter((c) => c.ok === false).map((c) => c.column));
      const bad = (col: string, n = 0) => (failed.has(col as never) || n > 0 ? ' class="bad"' : '');
      const mark = d.checks.some((c) => c.ok === false) ? ' <span class="bad" title="a check failed">✗</span>' : '';
      return `<tr><td>${esc(r.scenario)}${mark}</td><td>${r.accuracy.userChanges}</td><td>${r.accuracy.systemChanges}</td>
<td${bad('FP', r.accuracy.falsePositives)}>${r.accuracy.falsePositives}</td><td${bad('FN', r.accuracy.falseNegatives)}>${r.accuracy.falseNegatives}</td>
<td>${fmt(r.accuracy.precision, 3)}</td><td>${fmt(r.accuracy.recall, 3)}</td><td>${fmt(r.latency.p50Ms)}</td><td${bad('p95')}>${fmt(r.latency.p95Ms)}</td>
<td>${fmt(r.latency.p99Ms)}</td><td>${fmt(r.latency.maxMs)}</td><td${bad('commits')}>${r.commits}</td><td${bad('loops', r.loops)}>${r.loops}</td>
<td>${fmt(r.resources.cpuPercent, 1)}</td><td>${fmt(r.resources.rssMb, 1)}</td><td>${r.baseline.commits}</td><td>${r.baseline.falseNegatives}</td>
<td>${d.decisions.byLayer['1'] ?? 0} / ${d.decisions.byLayer['2'] ?? 0} / ${d.decisions.byLayer['3'] ?? 0}</td></tr>`;
    })
    .join('\n');
  const checks = runs
    .map(({ result: r, detail: d }) => {
      const items = [
        ...d.checks.map((c) => `<li class="${c.ok === false ? 'bad' : c.ok ? 'ok' : 'na'}">${c.ok === false ? '✗' : c.ok ? '✓' : '–'} ${esc(c.name)}: ${esc(c.detail)}</li>`),
        ...d.missed.map((c) => `<li class="bad">missed user change: ${esc(c.path)} (edit ${esc(c.edit)})</li>`),
        ...d.leaked.map((l) => `<li class="bad">committed churn: ${esc(l.path)} (${esc(l.label)}${l.writer ? `, ${esc(l.writer)}` : ''})</li>`),
        ...d.notes.map((n) => `<li class="na">note: ${esc(n)}</li>`),
      ];
      return `<h3>${esc(r.scenario)}</h3><ul>${items.join('')}</ul>`;
    })
    .join('\n');
  // Median, worst and each run of the figures the targets name (--repeat), and start-up figures.
  const FIGS: [string, (r: BenchResult) => number | null | undefined, number][] = [
    ['p95 ms', (r) => r.latency.p95Ms, 0],
    ['max ms', (r) => r.latency.maxMs, 0],
    ['FP', (r) => r.accuracy.falsePositives, 0],
    ['FN', (r) => r.accuracy.falseNegatives, 0],
    ['CPU %', (r) => r.resources.cpuPercent, 1],
    ['peak RSS MB', (r) => r.resources.rssMb, 1],
    ['ready ms', (r) => r.startup?.readyMs, 0],
    ['idle CPU %', (r) => r.startup?.idleCpuPercent, 2],
    ['idle RSS MB', (r) => r.startup?.idleRssMb, 1],
  ];
  const spread = runs
    .filter((r) => r.repeat || r.result.startup)
    .map(({ result: r, repeat }) => {
      const cells = FIGS.filter(([, get]) => get(r) !== undefined).map(
        ([name, get, d]) =>
          `<tr><td>${esc(name)}</td><td>${fmt(get(r) ?? null, d)}</td><td>${repeat ? fmt(get(repeat.worst) ?? null, d) : '—'}</td><td>${repeat ? repeat.runs.map((x) => fmt(get(x) ?? null, d)).join(', ') : '—'}</td></tr>`,
      );
      return `<h3>${esc(r.scenario)}</h3><table><thead><tr><th>figure</th><th>median</th><th>worst</th><th>each run</th></tr></thead><tbody>${cells.join('')}</tbody></table>`;
    })
    .join('\n');
  const L = report.layers;
  const failures = report.failures.map((f) => `<li class="bad">${esc(f.scenario)}: ${esc(f.error)}</li>`).join('');
  const json = JSON.stringify(runs.map((r) => (r.repeat ? { ...r.result, repeat: r.repeat } : r.result)), null, 2);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>winnow bench ${esc(report.startedAt)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:#222;max-width:1100px;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}th,td{padding:3px 8px;border-bottom:1px solid #e4e4e4;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f5f5f5;font-weight:600}
.bad{color:#b3261e;font-weight:600}td.bad{background:#fde4e1}.ok{color:#2a7a4c}.na{color:#777}ul{margin:.3em 0 1em;padding-left:1.2em}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}figure{margin:1em 0 2em}figcaption{color:#555;font-size:13px}
</style></head><body>
<h1>winnow bench</h1>
<p>${esc(report.startedAt)} · ${runs.length} scenario(s) in ${(report.wallMs / 1000).toFixed(1)} s · ${report.host.cpus} CPU(s) · node ${esc(report.host.node)} · ${esc(report.host.platform)}${report.quick ? ' · --quick' : ''}${report.repeat > 1 ? ` · ${report.repeat} runs each` : ''} · load ${esc((report.load ?? []).join(' '))}</p>
<h2>Results</h2>
<div style="overflow-x:auto"><table style="font-size:12px"><thead><tr><th>scenario</th><th>user changes</th><th>system changes</th><th>FP</th><th>FN</th><th>precision</th><th>recall</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>commits</th><th>loops</th><th>CPU %</th><th>RSS MB</th><th>gitwatch commits</th><th>gitwatch FN</th><th>decisions L1/L2/L3</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<p>User changes: a person's edits; system changes: writes of autonomous processes, editor temporaries and generated output (counts of changes, not CPU time). FP: a person's change never committed. FN: a change of an autonomous writer, an editor temporary or generated output that was committed. Latency: from the person's last write to the commit that holds it. gitwatch: what a commit-everything watcher with its default 2 s delay would have committed on the same writes.</p>
<p>Layers: L1 ${fmt(L.layers.l1NsPerPath, 1)} ns per path${L.extra.rules !== null ? ` with ${L.extra.rules} rules` : ''} · L2 ${fmt(L.layers.l2UsPerCheck, 1)} µs per check · L3 ${fmt(L.layers.l3UsPer1kJson, 1)} µs per 1 KB JSON, ${fmt(L.layers.l3UsPer100kJson, 1)} µs per 100 KB JSON${L.extra.commitMsSmall !== null ? ` · commit ${fmt(L.extra.commitMsSmall, 1)} ms small, ${fmt(L.extra.commitMs50k, 1)} ms with 50k files${L.extra.inHistoryMs50k != null ? ` (in the history after ${fmt(L.extra.inHistoryMs50k, 1)} ms)` : ''}` : ''}</p>
${L.notes.length ? `<ul>${L.notes.map((n) => `<li class="na">${esc(n)}</li>`).join('')}</ul>` : ''}
${spread ? `<h2>${report.repeat > 1 ? `Median and worst of ${report.repeat} runs` : 'Start-up and idle'}</h2>${spread}` : ''}
${failures ? `<h2>Failed to run</h2><ul>${failures}</ul>` : ''}
<h2>Latency distribution</h2>
<figure>${latencyChart(runs)}<figcaption>Each dot is one user change; black bars are p50 (label on its left) and p95 (label on its right); the dashed green line is the target (settle window + 250 ms).</figcaption></figure>
<h2>Accuracy per scenario</h2>
<figure>${groupedBars(runs, [
    { name: 'missed user changes (FP)', color: COLORS.fp, value: (r) => r.result.accuracy.falsePositives },
    { name: 'committed churn (FN)', color: COLORS.fn, value: (r) => r.result.accuracy.falseNegatives },
    { name: 'loops', color: '#7b3fa0', value: (r) => r.result.loops },
  ], '', 'accuracy per scenario')}<figcaption>Errors per scenario: every bar should be empty.</figcaption></figure>
<figure>${groupedBars(runs, [
    { name: 'precision', color: COLORS.winnow, value: (r) => r.result.accuracy.precision },
    { name: 'recall', color: COLORS.ok, value: (r) => r.result.accuracy.recall },
  ], '', 'precision and recall')}<figcaption>Precision and recall of holding churn back (1 is perfect).</figcaption></figure>
<h2>winnow vs a commit-everything watcher</h2>
<figure>${groupedBars(runs, [
    { name: 'winnow commits', color: COLORS.winnow, value: (r) => r.result.commits },
    { name: 'gitwatch commits', color: COLORS.baseline, value: (r) => r.result.baseline.commits },
  ], 'commits', 'commits')}</figure>
<figure>${groupedBars(runs, [
    { name: 'winnow: churn committed', color: COLORS.winnow, value: (r) => r.result.accuracy.falseNegatives },
    { name: 'gitwatch: churn committed', color: COLORS.baseline, value: (r) => r.result.baseline.falseNegatives },
  ], 'changes', 'churn committed', { log: true })}<figcaption>Log scale: 0, 1, 10, 100, … so that a few committed changes show next to thousands. gitwatch is simulated from the same run's writes; its reactions to its own commits (loops) are not, so its figures are a lower bound.</figcaption></figure>
<h2>Checks and notes</h2>
${checks}
<h2>JSON</h2>
<pre>${esc(json)}</pre>
</body></html>
`;
}
