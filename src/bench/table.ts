/** The bench report as a plain-text table for people (stdout without --json). */
import type { BenchReport } from './runner.js';

const fmt = (v: number | null | undefined, digits = 0) => (v === null || v === undefined ? '—' : digits ? v.toFixed(digits) : String(Math.round(v)));

const COLUMNS: [string, 'l' | 'r'][] = [
  ['scenario', 'l'],
  ['user changes', 'r'],
  ['system changes', 'r'],
  ['FP', 'r'],
  ['FN', 'r'],
  ['prec', 'r'],
  ['recall', 'r'],
  ['p50', 'r'],
  ['p95', 'r'],
  ['p99', 'r'],
  ['max', 'r'],
  ['commits', 'r'],
  ['loops', 'r'],
  ['cpu%', 'r'],
  ['rssMB', 'r'],
  ['gitwatch commits', 'r'],
  ['gitwatch FN', 'r'],
];

export function renderTable(report: BenchReport): string {
  const rows = report.runs.map(({ result: r }) => [
    r.scenario,
    fmt(r.accuracy.userChanges),
    fmt(r.accuracy.systemChanges),
    fmt(r.accuracy.falsePositives),
    fmt(r.accuracy.falseNegatives),
    fmt(r.accuracy.precision, 3),
    fmt(r.accuracy.recall, 3),
    fmt(r.latency.p50Ms),
    fmt(r.latency.p95Ms),
    fmt(r.latency.p99Ms),
    fmt(r.latency.maxMs),
    fmt(r.commits),
    fmt(r.loops),
    fmt(r.resources.cpuPercent, 1),
    fmt(r.resources.rssMb, 1),
    fmt(r.baseline.commits),
    fmt(r.baseline.falseNegatives),
  ]);
  const widths = COLUMNS.map(([h], i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (COLUMNS[i]![1] === 'l' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [
    line(COLUMNS.map(([h]) => h)),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    'user/system changes: counts of changes by people and by autonomous writers (not CPU time);',
    'latency in ms from the person\'s last write to the commit holding it; FP = user change never committed;',
    'FN = churn committed; gitwatch = a commit-everything watcher with a 2 s delay on the same writes.',
    '',
  ];
  const L = report.layers;
  out.push(
    `layers: L1 ${fmt(L.layers.l1NsPerPath, 1)} ns/path` +
      (L.extra.rules !== null ? ` (${L.extra.rules} rules; warm ${fmt(L.extra.l1NsPerPathWarm, 1)} ns)` : '') +
      ` · L2 ${fmt(L.layers.l2UsPerCheck, 1)} µs/check · L3 ${fmt(L.layers.l3UsPer1kJson, 1)} µs/1 KB JSON, ${fmt(L.layers.l3UsPer100kJson, 1)} µs/100 KB JSON` +
      (L.extra.commitMsSmall !== null ? ` · commit ${fmt(L.extra.commitMsSmall, 1)} ms small, ${fmt(L.extra.commitMs50k, 1)} ms at 50k files` : ''),
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
  out.push('', `${report.runs.length} scenario(s) in ${(report.wallMs / 1000).toFixed(1)} s on ${report.host.cpus} CPU(s), node ${report.host.node}${report.quick ? ' (--quick)' : ''}.`, '');
  return out.join('\n');
}
