import type { BenchReport, ScenarioRun } from '../../src/bench/runner.js';

/** [scenario, user, system, p50, p95, commits, rssMb, gitwatch commits, gitwatch FN]: the 2026-12-02 run's shape. */
const ROWS: [string, number, number, number, number, number, number, number, number][] = [
  ['autonomous-content', 4, 11, 556, 602, 4, 67.5, 1, 3],
  ['editor-saves', 7, 25, 551, 573, 7, 68.4, 1, 2],
  ['event-storm', 4, 20000, 572, 1122, 4, 129.9, 1, 20000],
  ['idle-10k', 1, 0, 618, 618, 1, 66.8, 1, 0],
  ['npm-storm', 4, 6004, 579, 598, 4, 89.9, 1, 4001],
  ['rapid-saves', 6, 15, 545, 566, 7, 70.7, 2, 2],
  ['rate-limit', 9, 5, 2904, 8508, 5, 69.2, 1, 1],
  ['seed-workspace', 6, 28, 547, 595, 6, 67.9, 1, 6],
];

/**
 * A bench report like a full run's, with event-storm's p95 over its target (the check fails):
 * what the report must show, without running the benchmark.
 */
export function sampleReport(): BenchReport {
  const runs: ScenarioRun[] = ROWS.map(([scenario, user, system, p50, p95, commits, rssMb, gwCommits, gwFn]) => {
    const lat = Array.from({ length: user }, (_, i) => Math.round(p50 + ((p95 - p50) * i) / Math.max(1, user - 1)));
    return {
      result: {
        scenario,
        accuracy: { userChanges: user, systemChanges: system, falsePositives: 0, falseNegatives: 0, precision: 1, recall: 1 },
        latency: { p50Ms: p50, p95Ms: p95, p99Ms: p95, maxMs: p95 },
        commits,
        loops: 0,
        resources: { cpuPercent: 4.1, rssMb },
        layers: { l1NsPerPath: null, l2UsPerCheck: null, l3UsPer1kJson: null, l3UsPer100kJson: null },
        baseline: { commits: gwCommits, falseNegatives: gwFn },
      },
      detail: {
        latenciesMs: lat,
        missed: [],
        superseded: 0,
        leaked: [],
        loopShas: [],
        baseline: { falsePositives: 0, latenciesMs: [], leakedPaths: [] },
        settleMs: 500,
        durationMs: 20_000,
        readyMs: 900,
        decisions: { ALLOW: user, BLOCK: system, byLayer: { '1': system, '2': 0, '3': user } },
        checks: [
          { name: 'every user change committed', column: 'FP', ok: true, detail: `0 missed of ${user}` },
          { name: 'no churn committed', column: 'FN', ok: true, detail: `0 of ${system}` },
          { name: 'no loop', column: 'loops', ok: true, detail: '0 commit(s) without a user change' },
          scenario === 'rate-limit'
            ? { name: 'p95 ≤ settle + 250 ms', ok: null, detail: 'not applicable: the scenario restarts winnow' }
            : { name: 'p95 ≤ settle + 250 ms (750 ms)', column: 'p95', ok: p95 <= 750, detail: `p95 ${p95} ms` },
        ],
        notes: [],
        wallMs: 21_000,
      },
    };
  });
  return {
    runs,
    failures: [],
    layers: {
      layers: { l1NsPerPath: 520, l2UsPerCheck: 30, l3UsPer1kJson: 6, l3UsPer100kJson: 293 },
      extra: { l1NsPerPathWarm: 104, rules: 100, commitMsSmall: 55, commitMs50k: 108.6 },
      notes: [],
    },
    host: { cpus: 2, node: 'v20.20.2', platform: 'linux' },
    startedAt: '2026-12-02T08:00:00.000Z',
    wallMs: 173_000,
    quick: false,
    repeat: 1,
    load: [1.2, 1.1, 0.9],
  };
}
