/** The bench report as a plain-text table for people (stdout without --json). */
import type { BenchReport } from './runner.js';
import type { BenchResult } from './metrics.js';

const fmt = (v: number | null | undefined, digits = 0) => (v === null || v === undefined ? '—' : digits ? v.toFixed(digits) : String(Math.round(v)));

type Col = [header: string, align: 'l' | 'r', get: (r: BenchResult) => number | null | undefined, digits: number];

const COLUMNS: Col[] = [
  ['user changes', 'r', (r) => r.accuracy.userChanges, 0],
  ['system changes', 'r', (r) => r.accuracy.systemChanges, 0],
  ['FP', 'r', (r) => r.accuracy.falsePositives, 0],
  ['FN', 'r', (r) => r.accuracy.falseNegatives, 0],
  ['prec', 'r', (r) => r.accuracy.precision, 3],
  ['recall', 'r', (r) => r.accuracy.recall, 3],
  ['p50', 'r', (r) => r.latency.p50Ms, 0],
  ['p95', 'r', (r) => r.latency.p95Ms, 0],
  ['p99', 'r', (r) => r.latency.p99Ms, 0],
  ['max', 'r', (r) => r.latency.maxMs, 0],
  ['commits', 'r', (r) => r.commits, 0],
  ['loops', 'r', (r) => r.loops, 0],
  ['cpu%', 'r', (r) => r.resources.cpuPercent, 1],
  ['rssMB', 'r', (r) => r.resources.rssMb, 1],
  ['gitwatch commits', 'r', (r) => r.baseline.commits, 0],
  ['gitwatch FN', 'r', (r) => r.baseline.falseNegatives, 0],
];

/** Shown only when some scenario has an idle phase. */
const STARTUP: Col[] = [
  ['ready ms', 'r', (r) => r.startup?.readyMs, 0],
  ['idle cpu%', 'r', (r) => r.startup?.idleCpuPercent, 2],
  ['idle rssMB', 'r', (r) => r.startup?.idleRssMb, 1],
];

export function renderTable(report: BenchReport): string {
  const withStartup = report.runs.some((r) => r.result.startup);
  const cols: Col[] = [['scenario', 'l', () => null, 0], ...COLUMNS, ...(withStartup ? STARTUP : [])];
  // With --repeat: "median/worst" in every figure's cell.
  const rows = report.runs.map((run) =>
    cols.map(([, , get, digits], i) => {
      if (i === 0) return run.result.scenario;
      const med = fmt(get(run.result), digits);
      return run.repeat ? `${med}/${fmt(get(run.repeat.worst), digits)}` : med;
    }),
  );
  const COLS = cols;
  const widths = COLS.map(([h], i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (COLS[i]![1] === 'l' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [
    line(COLS.map(([h]) => h)),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    'user/system changes: counts of changes by people and by autonomous writers (not CPU time);',
    'latency in ms from the person\'s last write to the commit holding it; FP = user change never committed;',
    'FN = churn committed; gitwatch = a commit-everything watcher with a 2 s delay on the same writes.',
    ...(report.repeat > 1 ? [`each figure: median/worst of ${report.repeat} runs (worst: highest, or lowest for prec and recall).`] : []),
    '',
  ];
  const L = report.layers;
  const W = L.worst;
  const mw = (m: number | null, w: number | null | undefined, d: number) => (W ? `${fmt(m, d)}/${fmt(w, d)}` : fmt(m, d));
  out.push(
    `layers${W ? ` (median/worst of ${report.repeat})` : ''}: L1 ${mw(L.layers.l1NsPerPath, W?.layers.l1NsPerPath, 1)} ns/path` +
      (L.extra.rules !== null ? ` (${L.extra.rules} rules; warm ${mw(L.extra.l1NsPerPathWarm, W?.extra.l1NsPerPathWarm, 1)} ns)` : '') +
      ` · L2 ${mw(L.layers.l2UsPerCheck, W?.layers.l2UsPerCheck, 1)} µs/check · L3 ${mw(L.layers.l3UsPer1kJson, W?.layers.l3UsPer1kJson, 1)} µs/1 KB JSON, ${mw(L.layers.l3UsPer100kJson, W?.layers.l3UsPer100kJson, 1)} µs/100 KB JSON` +
      (L.extra.commitMsSmall !== null ? ` · commit ${mw(L.extra.commitMsSmall, W?.extra.commitMsSmall, 1)} ms small, ${mw(L.extra.commitMs50k, W?.extra.commitMs50k, 1)} ms at 50k files${L.extra.inHistoryMs50k != null ? ` (in the history after ${mw(L.extra.inHistoryMs50k, W?.extra.inHistoryMs50k ?? null, 1)} ms)` : ''}` : ''),
  );
  for (const n of L.notes) out.push(`  note: ${n}`);
  out.push('');
  for (const run of report.runs) {
    const failed = run.detail.checks.filter((c) => c.ok === false);
    const d = run.detail.decisions;
    out.push(
      `${run.result.scenario}: ${failed.length ? `${failed.length} check(s) failed` : 'all checks passed'}` +
        ` · decisions ALLOW ${d.ALLOW} / BLOCK ${d.BLOCK} (L1 ${d.byLayer['1'] ?? 0}, L2 ${d.byLayer['2'] ?? 0}, L3 ${d.byLayer['3'] ?? 0})` +
        ` · ${(run.detail.wallMs / 1000).toFixed(1)} s`,
    );
    for (const c of run.detail.checks) if (c.ok === false) out.push(`  ✗ ${c.name}: ${c.detail}`);
    for (const c of run.detail.missed.slice(0, 5)) out.push(`  missed: ${c.path} (edit ${c.edit})`);
    for (const l of run.detail.leaked.slice(0, 5)) out.push(`  committed churn: ${l.path} (${l.label}${l.writer ? `, ${l.writer}` : ''})`);
    for (const n of run.detail.notes) out.push(`  note: ${n}`);
  }
  for (const f of report.failures) out.push(`${f.scenario}: FAILED TO RUN: ${f.error}`);
  out.push('', `${report.runs.length} scenario(s)${report.repeat > 1 ? ` × ${report.repeat} runs` : ''} in ${(report.wallMs / 1000).toFixed(1)} s on ${report.host.cpus} CPU(s), node ${report.host.node}, load ${report.load.join(' ')}${report.quick ? ' (--quick)' : ''}.`, '');
  return out.join('\n');
}
