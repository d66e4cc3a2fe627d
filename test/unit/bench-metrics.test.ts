import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeMetrics,
  percentile,
  latencyOf,
  simulateBaseline,
  userChanges,
  systemChanges,
  type TruthRecord,
  type CommitRecord,
} from '../../src/bench/metrics.js';
import { planPlayers, taskTimes, timelineMs } from '../../src/bench/plan.js';
import { parseScenario } from '../../src/bench/scenario.js';
import { ConfigError } from '../../src/core/config/schema.js';

const T0 = 1_700_000_000_000;
const w = (t: number, path: string, blob: string, label: TruthRecord['label'], edit?: string): TruthRecord => ({
  t: T0 + t,
  path,
  op: 'write',
  blob,
  label,
  ...(edit ? { edit } : {}),
});
const del = (t: number, path: string, label: TruthRecord['label'], edit?: string): TruthRecord => ({
  t: T0 + t,
  path,
  op: 'delete',
  blob: null,
  label,
  ...(edit ? { edit } : {}),
});
const commit = (sha: string, t: number, ...entries: [string, string | null][]): CommitRecord => ({
  sha,
  atMs: T0 + t,
  entries: entries.map(([path, blob]) => ({ path, blob })),
});
const initial = new Map([['README.md', 'b-readme'], ['tasks.json', 'b-tasks0']]);

test('percentile uses nearest rank and is null on no samples', () => {
  const cases: [number[], number, number | null][] = [
    [[], 50, null],
    [[7], 99, 7],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 95, 4],
    [Array.from({ length: 100 }, (_, i) => i + 1), 95, 95],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
  ];
  for (const [xs, p, want] of cases) assert.equal(percentile(xs, p), want, `p${p} of ${xs.length}`);
  assert.deepEqual(latencyOf([30, 10, 20]), { p50Ms: 20, p95Ms: 30, p99Ms: 30, maxMs: 30 });
});

test('a user change is the final content of an edit; intermediate saves and no-op edits are not changes', () => {
  const truth = [
    w(0, 'a.md', 'a1', 'user', 'e1'),
    w(50, 'a.md', 'a2', 'user', 'e1'),
    w(100, 'a.md', 'a3', 'user', 'e1'),
    // vim: the file moves to a.md~ (the person's own delete of a.md), then is written anew
    del(1000, 'b.md', 'user', 'e2'),
    w(1001, 'b.md~', 'b0', 'noise', 'e2'),
    w(1002, 'b.md', 'b1', 'user', 'e2'),
    // a save that writes what was already there
    w(2000, 'README.md', 'b-readme', 'user', 'e3'),
  ];
  const changes = userChanges(truth, initial);
  assert.deepEqual(
    changes.map((c) => [c.edit, c.path, c.blob, c.firstAt - T0, c.lastAt - T0]),
    [
      ['e1', 'a.md', 'a3', 0, 100],
      ['e2', 'b.md', 'b1', 1000, 1002],
    ],
  );
});

test('system changes: distinct churn contents that no user wrote; deleting an untracked temp is no change', () => {
  const truth = [
    w(0, 'tasks.json', 'ts1', 'system'),
    w(10, 'tasks.json', 'ts1', 'system'), // same bytes again: no change
    w(20, 'tasks.json', 'ts2', 'system'),
    w(30, '.a.md.swp', 'swap', 'noise', 'e1'),
    del(40, '.a.md.swp', 'noise', 'e1'),
    w(50, 'shared.md', 'u1', 'user', 'e2'),
    w(60, 'shared.md', 'u1', 'system'), // an agent rewriting the person's content is not churn
    del(70, 'README.md', 'system'),
  ];
  const keys = [...systemChanges(truth, initial).values()].map((r) => `${r.path}:${r.blob}`);
  assert.deepEqual(keys.sort(), ['.a.md.swp:swap', 'README.md:null', 'tasks.json:ts1', 'tasks.json:ts2'].sort());
});

test('perfect run: every user change committed, no churn, latency from the last write', () => {
  const truth = [w(0, 'a.md', 'a1', 'user', 'e1'), w(100, 'a.md', 'a2', 'user', 'e1'), w(300, 'tasks.json', 'ts1', 'system')];
  const m = computeMetrics({ truth, initial, commits: [commit('c1', 700, ['a.md', 'a2'])], ignored: new Set() });
  assert.deepEqual(m.accuracy, { userChanges: 1, systemChanges: 1, falsePositives: 0, falseNegatives: 0, precision: 1, recall: 1 });
  assert.deepEqual(m.latency, { p50Ms: 600, p95Ms: 600, p99Ms: 600, maxMs: 600 });
  assert.equal(m.commits, 1);
  assert.equal(m.loops, 0);
});

test('false positive (user change never committed) and false negative (churn committed) move precision and recall', () => {
  const truth = [
    w(0, 'a.md', 'a1', 'user', 'e1'),
    w(0, 'b.md', 'b1', 'user', 'e2'),
    w(10, 'tasks.json', 'ts1', 'system'),
    w(20, 'tasks.json', 'ts2', 'system'),
    w(30, 'log.txt', 'l1', 'system'),
    w(40, 'log.txt', 'l2', 'system'),
  ];
  const m = computeMetrics({
    truth,
    initial,
    commits: [commit('c1', 500, ['a.md', 'a1'], ['tasks.json', 'ts2'])],
    ignored: new Set(),
  });
  assert.equal(m.accuracy.userChanges, 2);
  assert.equal(m.accuracy.systemChanges, 4);
  assert.equal(m.accuracy.falsePositives, 1);
  assert.equal(m.accuracy.falseNegatives, 1);
  // held back as churn: 3 true, 1 false (the user's b.md)
  assert.equal(m.accuracy.precision, 0.75);
  assert.equal(m.accuracy.recall, 0.75);
  assert.deepEqual(m.detail.missed.map((c) => c.path), ['b.md']);
  assert.deepEqual(m.detail.leaked.map((l) => [l.path, l.blob]), [['tasks.json', 'ts2']]);
});

test('a commit that matches content only before the edit began does not count for it', () => {
  const truth = [w(1000, 'a.md', 'same', 'user', 'e1')];
  const m = computeMetrics({ truth, initial, commits: [commit('c0', 500, ['a.md', 'same'])], ignored: new Set() });
  assert.equal(m.accuracy.falsePositives, 1);
});

test('a change overwritten by the same person before a commit, with the newer one committed, is superseded, not missed', () => {
  const truth = [w(0, 'a.md', 'a1', 'user', 'e1'), w(2000, 'a.md', 'a2', 'user', 'e2')];
  const m = computeMetrics({ truth, initial, commits: [commit('c1', 2600, ['a.md', 'a2'])], ignored: new Set() });
  assert.equal(m.accuracy.falsePositives, 0);
  assert.equal(m.detail.superseded, 1);
  assert.deepEqual(m.detail.latenciesMs, [600]);
});

test('loops: commits holding no user content, e.g. a monitor reacting to commits', () => {
  const truth = [
    w(0, 'a.md', 'a1', 'user', 'e1'),
    w(800, 'ctx.json', 'x1', 'system'),
    w(1600, 'ctx.json', 'x2', 'system'),
  ];
  const m = computeMetrics({
    truth,
    initial,
    commits: [commit('c1', 600, ['a.md', 'a1']), commit('c2', 1400, ['ctx.json', 'x1']), commit('c3', 2200, ['ctx.json', 'x2'])],
    ignored: new Set(),
  });
  assert.equal(m.loops, 2);
  assert.deepEqual(m.detail.loopShas, ['c2', 'c3']);
  assert.equal(m.accuracy.falseNegatives, 2);
});

test('baseline: a trailing 2 s timer, git-ignored paths left out, whatever differs committed', () => {
  const truth = [
    w(0, 'a.md', 'a1', 'user', 'e1'),
    w(500, 'node_modules/x.js', 'nm', 'noise', 's1'),
    w(1000, 'tasks.json', 'ts1', 'system'),
    // 2.5 s of quiet: the timer fired at 3000
    w(3500, 'a.md.swp', 'sw', 'noise', 'e2'),
    del(3600, 'a.md.swp', 'noise', 'e2'), // gone before the timer fires: nothing to commit
    w(9000, 'tasks.json', 'ts2', 'system'),
  ];
  const commits = simulateBaseline(truth, initial, new Set(['node_modules/x.js']));
  assert.deepEqual(
    commits.map((c) => [c.atMs - T0, c.entries.map((e) => `${e.path}=${e.blob}`).sort()]),
    [
      [3000, ['a.md=a1', 'tasks.json=ts1']],
      [11000, ['tasks.json=ts2']],
    ],
  );
  const m = computeMetrics({ truth, initial, commits: [], ignored: new Set(['node_modules/x.js']) });
  assert.deepEqual(m.baseline, { commits: 2, falseNegatives: 2 });
  assert.equal(m.accuracy.falsePositives, 1, 'winnow committed nothing here');
});

test('baseline never fires while events keep coming closer than its delay', () => {
  const truth = Array.from({ length: 20 }, (_, i) => w(i * 1000, 'state.json', `s${i}`, 'system'));
  assert.equal(simulateBaseline(truth, initial, new Set()).length, 1);
});

const scenario = (over: Record<string, unknown> = {}) => ({ durationMs: 10_000, ...over });

test('scenario validation names the file and the key', () => {
  const cases: [unknown, string][] = [
    [[], 's.json: a scenario must be a JSON object'],
    [{}, 's.json: key "durationMs"'],
    [scenario({ extra: 1 }), 's.json: key "extra": unknown key'],
    [scenario({ edits: [{ at: 1, path: '../x' }] }), 's.json: key "edits[0].path"'],
    [scenario({ edits: [{ at: 1, path: 'a.md', pattern: 'nano' }] }), 's.json: key "edits[0].pattern"'],
    [scenario({ edits: [{ at: 20_000, path: 'a.md' }] }), 's.json: key "edits[0].at": is after durationMs'],
    [scenario({ writers: [{ player: 'claude-autonomous', tasks: [{ path: 'x', kind: 'content' }] }] }), 's.json: key "writers[0].tasks[0]"'],
    [scenario({ config: { debounce: { defaultMs: 'soon' } } }), 's.json: key "config.debounce.defaultMs"'],
    [scenario({ config: { nope: true } }), 's.json: key "config.nope": unknown key'],
  ];
  for (const [raw, want] of cases) {
    assert.throws(
      () => parseScenario(raw, 's.json'),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith(want),
      `expected error starting with ${want}`,
    );
  }
  const ok = parseScenario(scenario({ config: { debounce: { defaultMs: 500 } } }), '/x/my-case.json');
  assert.equal(ok.name, 'my-case');
  assert.equal(ok.resolvedConfig.debounce.defaultMs, 500);
});

test('plans: periodic and exact write times within the timeline; --quick cuts the timeline', () => {
  assert.deepEqual(taskTimes({ path: 'a', kind: 'content', every: 3000 }, 10_000), [3000, 6000, 9000]);
  assert.deepEqual(taskTimes({ path: 'a', kind: 'content', every: 3000, start: 0, at: [500, 20_000] }, 10_000), [0, 500, 3000, 6000, 9000]);
  const s = parseScenario(
    scenario({
      quickMs: 4000,
      writers: [{ player: 'claude-context-monitor', tasks: [{ path: 's.json', kind: 'timestamp-json', every: 1500 }, { path: 'c.json', kind: 'commit-json', onCommit: { delayMs: 100 } }] }],
      edits: [{ at: 1000, path: 'a.md' }, { at: 5000, path: 'b.md' }],
    }),
    'q.json',
  );
  const d = timelineMs(s, true);
  assert.equal(d, 4000);
  const p = planPlayers(s, { root: '/r', gitDir: '/r/.git', t0: 100, durationMs: d });
  assert.deepEqual(p.writers[0]!.ops.map((o) => o.at), [1500, 3000]);
  assert.deepEqual(p.writers[0]!.reactions, [{ path: 'c.json', kind: 'commit-json', delayMs: 100 }]);
  assert.equal(p.writers[0]!.endAt, 4100);
  assert.deepEqual(p.human.edits.map((e) => [e.id, e.path]), [['e1', 'a.md']]);
});
