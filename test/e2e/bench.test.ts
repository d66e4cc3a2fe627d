import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { winnow } from '../helpers/daemon.js';

const FAST = {
  debounce: { defaultMs: 300, rules: [], maxMs: 1500, maxWaitMs: 5000 },
  rateLimit: { maxPerHour: 1000, maxPerDay: 10000 },
  autonomous: { correlationWindowMs: 300 },
};

/** Clear-cut cases only: a rule-blocked log, timestamp-only JSON, plain and atomic saves. */
const small = {
  description: 'e2e: a small scenario',
  durationMs: 3000,
  config: FAST,
  workspace: { files: { 'notes/a.md': '# a\n', '.claude/state.json': { phase: 'idle', updated_at: '2026-01-01T00:00:00Z' } } },
  writers: [
    {
      player: 'claude-autonomous',
      tasks: [
        { path: 'logs/agent.log', kind: 'append-log', every: 1000, start: 0 },
        { path: '.claude/state.json', kind: 'timestamp-json', at: [0, 2000] },
      ],
    },
  ],
  edits: [
    { at: 700, path: 'notes/a.md', change: 'append' },
    { at: 1400, path: 'docs/b.md', pattern: 'vscode', change: 'replace' },
  ],
  // A loaded test machine must not fail the latency target: bench exits 1 on a failed check.
  checks: { latencyOverSettleMs: 600_000 },
};

const tiny = { durationMs: 1500, config: FAST, edits: [{ at: 300, path: 'c.md', change: 'replace' }], checks: { latencyOverSettleMs: 600_000 } };

const KEYS = {
  top: ['accuracy', 'baseline', 'commits', 'latency', 'layers', 'loops', 'resources', 'scenario'],
  accuracy: ['falseNegatives', 'falsePositives', 'precision', 'recall', 'systemChanges', 'userChanges'],
  latency: ['maxMs', 'p50Ms', 'p95Ms', 'p99Ms'],
  resources: ['cpuPercent', 'rssMb'],
  layers: ['l1NsPerPath', 'l2UsPerCheck', 'l3UsPer100kJson', 'l3UsPer1kJson'],
  baseline: ['commits', 'falseNegatives'],
};
const keys = (o: object) => Object.keys(o).sort();

test('bench runs two small scenarios end to end: SPEC JSON array, report.json and report.html', async () => {
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-bench-e2e-'));
  try {
    await writeFile(join(dir, 'small.json'), JSON.stringify(small));
    await writeFile(join(dir, 'tiny.json'), JSON.stringify(tiny));
    const out = join(dir, 'report');
    const r = await winnow(['bench', '--scenario', 'small.json,tiny.json', '--json', '--out', out, '--skip-micro'], dir);
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(r.stdout) as Record<string, any>[];
    assert.ok(Array.isArray(results), 'several scenarios give an array');
    assert.deepEqual(results.map((x) => x.scenario), ['small', 'tiny']);
    for (const x of results) {
      assert.deepEqual(keys(x), KEYS.top);
      for (const k of ['accuracy', 'latency', 'resources', 'layers', 'baseline'] as const) assert.deepEqual(keys(x[k]), KEYS[k], k);
      assert.deepEqual(x.layers, { l1NsPerPath: null, l2UsPerCheck: null, l3UsPer1kJson: null, l3UsPer100kJson: null }, 'skipped micro-benchmarks stay null');
    }
    const [s, t] = results as [Record<string, any>, Record<string, any>];
    assert.equal(s.accuracy.userChanges, 2);
    // three log lines, two timestamp rewrites, one .vsctmp temporary
    assert.equal(s.accuracy.systemChanges, 6);
    assert.equal(s.accuracy.falsePositives, 0, 'every user change committed');
    assert.equal(s.accuracy.falseNegatives, 0, 'no churn committed');
    assert.equal(s.loops, 0);
    assert.ok(s.commits >= 1 && s.commits <= 2, `commits: ${s.commits}`);
    assert.equal(typeof s.latency.p50Ms, 'number');
    assert.ok(s.latency.maxMs >= s.latency.p50Ms);
    assert.ok(s.baseline.commits >= 1);
    assert.ok(s.baseline.falseNegatives >= 1, 'a commit-everything watcher commits the timestamp churn');
    if (process.platform === 'linux') assert.ok(s.resources.rssMb > 0 && s.resources.cpuPercent >= 0);
    assert.equal(t.accuracy.userChanges, 1);
    assert.equal(t.accuracy.falsePositives, 0);

    assert.deepEqual(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')), results);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    assert.match(html, /<svg /);
    assert.doesNotMatch(html, /<script|<link |src="http/, 'self-contained: no scripts, no external assets');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failed check makes bench exit 1 and says which, so CI can use it', async () => {
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-bench-e2e-'));
  try {
    // The person's change must be committed, so "at most 0 commits" fails whatever the timing.
    await writeFile(join(dir, 'strict.json'), JSON.stringify({ ...tiny, checks: { maxCommitsBefore: { beforeMs: 600_000, max: 0 } } }));
    const r = await winnow(['bench', '--scenario', 'strict.json', '--skip-micro'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /winnow bench: \d+ checks? failed: .*strict: ≤ 0 commits in the first 600 s \(1 commit\(s\)\)/);
    assert.match(r.stdout, /strict: \d check\(s\) failed/, 'the table still prints');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--keep-failed keeps the workspace, winnow\'s log and the truth of a run that committed churn, and removes a run that passed', async () => {
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-bench-e2e-'));
  const tmp = join(dir, 'tmp');
  try {
    await mkdir(tmp);
    // A rule that lets an agent's log through: its appends are committed, so "no churn committed" fails.
    const leaky = { ...tiny, config: { ...FAST, rules: ['ALLOW:logs/**'] }, writers: [{ player: 'claude-autonomous', tasks: [{ path: 'logs/agent.log', kind: 'append-log', every: 400, start: 0 }] }] };
    await writeFile(join(dir, 'leaky.json'), JSON.stringify(leaky));
    await writeFile(join(dir, 'tiny.json'), JSON.stringify(tiny));
    const r = await winnow(['bench', '--scenario', 'leaky.json,tiny.json', '--keep-failed', '--skip-micro'], dir, { TMPDIR: tmp });
    assert.equal(r.code, 1, r.stderr);
    const kept = await readdir(tmp);
    assert.equal(kept.filter((n) => n.startsWith('winnow-bench-tiny-')).length, 0, `the passing run is removed: ${kept.join(' ')}`);
    const leakyDirs = kept.filter((n) => n.startsWith('winnow-bench-leaky-'));
    assert.equal(leakyDirs.length, 1, kept.join(' '));
    const k = join(tmp, leakyDirs[0]!);
    assert.match(r.stdout, new RegExp(`note: workspace kept at ${join(k, 'ws').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')};`));
    const log = (await readFile(join(k, 'winnow-1.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { msg: string; path?: string });
    assert.ok(log.some((l) => l.msg === 'ready'), 'the log holds the session from its start');
    assert.ok(log.some((l) => l.msg === 'decision' && l.path === 'logs/agent.log'), 'and the decision that let the churn through');
    const truth = JSON.parse(await readFile(join(k, 'truth.json'), 'utf8')) as { path: string }[];
    assert.ok(truth.some((t) => t.path === 'logs/agent.log'), 'the writers\' ground truth is kept');
    assert.ok((await stat(join(k, 'ws', '.git'))).isDirectory(), 'the workspace and its history are kept');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a bad scenario names the file and the key and exits 2 without running anything', async () => {
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-bench-e2e-'));
  try {
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ durationMs: 2000, edits: [{ at: 100, path: 'a.md', pattern: 'nano' }] }));
    const r = await winnow(['bench', '--scenario', 'bad.json', '--json'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.json: key "edits\[0\]\.pattern"/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '');
    const unknown = await winnow(['bench', '--scenario', 'no-such-scenario'], dir);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no scenario named "no-such-scenario".*seed-workspace/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bench --repeat 2: medians in the SPEC shape, the worst and both runs under "repeat"; the table shows median/worst; an idle phase adds startup', async () => {
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-bench-e2e-'));
  try {
    await writeFile(join(dir, 'idle.json'), JSON.stringify({ ...tiny, idle: { ms: 1000, skipMs: 0 }, checks: { readyMs: 600_000, latencyOverSettleMs: 600_000 } }));
    const r = await winnow(['bench', '--scenario', 'idle.json', '--repeat', '2', '--json', '--skip-micro'], dir);
    assert.equal(r.code, 0, r.stderr);
    const x = JSON.parse(r.stdout) as Record<string, any>;
    assert.deepEqual(keys(x), [...KEYS.top, 'repeat', 'startup'].sort());
    assert.equal(x.repeat.n, 2);
    assert.equal(x.repeat.runs.length, 2);
    assert.deepEqual(keys(x.repeat.worst), [...KEYS.top, 'startup'].sort());
    const p95s = x.repeat.runs.map((run: any) => run.latency.p95Ms);
    assert.equal(x.repeat.worst.latency.p95Ms, Math.max(...p95s));
    assert.equal(x.latency.p95Ms, (p95s[0] + p95s[1]) / 2);
    assert.ok(x.startup.readyMs > 0);
    const t = await winnow(['bench', '--scenario', 'idle.json', '--repeat', '2', '--skip-micro'], dir);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /median\/worst of 2 runs/);
    assert.doesNotMatch(t.stdout, /✗ ready/, 'a bound that held in both runs is not reported as failed');
    assert.match(t.stdout, /ready ms +idle cpu%/);
    const bad = await winnow(['bench', '--repeat', '0'], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--repeat takes a whole number from 1 to 100 \(got "0"\)/);
    const fan = await winnow(['bench', '--fanotify', 'maybe'], dir);
    assert.equal(fan.code, 2);
    assert.match(fan.stderr, /--fanotify takes auto, on or off \(got "maybe"\)/);
    const ev = await winnow(['bench', '--evidence', 'psychic'], dir);
    assert.equal(ev.code, 2);
    assert.match(ev.stderr, /--evidence takes fanotify, trace, exec or heuristic \(got "psychic"\)/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
