import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bracketWrite,
  explainStep,
  startExplain,
  writeTime,
  MTIME_SLACK_AFTER_MS,
  MTIME_SLACK_BEFORE_MS,
  START_SLACK_MS,
  type CounterSample,
  type ExplainInput,
  type RecentChange,
} from '../../src/core/classify/temporal.js';

const PAGE = 4096;

test('writeTime: the mtime, unless it lies in the future', () => {
  const cases: [mtime: number | null, eventAt: number, now: number, want: number][] = [
    [900, 1000, 1000, 900],
    [1000, 1000, 1000, 1000],
    [5000, 1000, 1000, 1000], // touch -d in the future: the event time
    [null, 1000, 1000, 1000], // a deletion
  ];
  for (const [mtime, eventAt, now, want] of cases) assert.equal(writeTime(mtime, eventAt, now), want, `${mtime}`);
});

test('bracketWrite: the counter movement between the samples around the write, per process', () => {
  const s = (...pairs: [number, number][]): CounterSample[] => pairs.map(([at, bytes]) => ({ at, bytes }));
  const cases: {
    name: string;
    samples: [number, CounterSample[]][];
    startedAt?: [number, number | null][];
    lookedAtBefore?: number;
    t: number;
    want: ReturnType<typeof bracketWrite>;
  }[] = [
    { name: 'no samples', samples: [], t: 500, want: null },
    {
      name: 'one process, moved around the write',
      samples: [[7, s([0, 100], [1000, 100 + PAGE])]],
      t: 500,
      want: { active: PAGE, from: 0, to: 1000, movers: [{ pid: 7, bytes: PAGE }] },
    },
    {
      name: 'still, around the write: known, nothing active',
      samples: [[7, s([0, 100], [1000, 100])]],
      t: 500,
      want: { active: 0, from: Infinity, to: -Infinity, movers: [] },
    },
    {
      name: 'the sample just after the mtime is too soon: the next one counts',
      samples: [[7, s([0, 0], [500 + MTIME_SLACK_AFTER_MS - 1, 10], [2000, 50])]],
      t: 500,
      want: { active: 50, from: 0, to: 2000, movers: [{ pid: 7, bytes: 50 }] },
    },
    {
      name: 'a sample within the mtime slack before the write may follow it: the earlier one is the base',
      samples: [[7, s([0, 0], [500 - MTIME_SLACK_BEFORE_MS + 1, 10], [1000, 30])]],
      t: 500,
      want: { active: 30, from: 0, to: 1000, movers: [{ pid: 7, bytes: 30 }] },
    },
    {
      name: 'first sampled after the write, started after the last look: counts from zero at its start',
      samples: [[8, s([1000, 4096])]],
      startedAt: [[8, 450]],
      lookedAtBefore: 400,
      t: 500,
      want: { active: 4096, from: 450, to: 1000, movers: [{ pid: 8, bytes: 4096 }] },
    },
    {
      name: 'first sampled after the write, started long before the last look: nothing known',
      samples: [[8, s([1000, 4096])]],
      startedAt: [[8, 100]],
      lookedAtBefore: 400,
      t: 500,
      want: null,
    },
    {
      name: 'first sampled after the write, started after it: not its writer',
      samples: [[8, s([1000, 4096])]],
      startedAt: [[8, 500 + START_SLACK_MS + 1]],
      lookedAtBefore: 400,
      t: 500,
      want: null,
    },
    {
      name: 'two processes: bytes add up, the interval is the widest',
      samples: [
        [7, s([100, 0], [900, 10])],
        [9, s([200, 0], [1200, 20])],
      ],
      t: 500,
      want: { active: 30, from: 100, to: 1200, movers: [{ pid: 7, bytes: 10 }, { pid: 9, bytes: 20 }] },
    },
  ];
  for (const c of cases) {
    const got = bracketWrite(new Map(c.samples), new Map(c.startedAt ?? []), c.lookedAtBefore ?? 0, c.t);
    assert.deepEqual(got, c.want, c.name);
  }
});

/** Runs the explanation to the end, looking sizes up in `sizes` (path → [size, mtime]). */
function explain(input: Omit<ExplainInput, 'humanWrittenAt'> & { human?: Record<string, number> }, sizes: Record<string, [number, number | null]>, lookups: number) {
  const budget = { lookups };
  const c = startExplain(input.recent);
  const looked: string[] = [];
  const full: ExplainInput = { ...input, humanWrittenAt: (p) => input.human?.[p] };
  for (;;) {
    const step = explainStep(c, full, budget);
    if ('explained' in step) return { explained: step.explained, looked };
    looked.push(step.need.path);
    const [size, mtime] = sizes[step.need.path] ?? [0, null];
    step.need.size = size;
    if (mtime !== null) step.need.mtime = mtime;
  }
}

test('explainStep: other paths written between the samples explain the bytes, at their size in pages', () => {
  const r = (path: string, at: number, size?: number, mtime?: number): RecentChange => ({ path, at, ...(size === undefined ? {} : { size }), ...(mtime === undefined ? {} : { mtime }) });
  const base = { path: 'mine.md', from: 100, to: 1000, active: 2 * PAGE };
  const cases: { name: string; recent: RecentChange[]; human?: Record<string, number>; sizes?: Record<string, [number, number | null]>; lookups?: number; want: number; looked?: string[] }[] = [
    { name: 'nothing else changed', recent: [r('mine.md', 500, 10, 500)], want: 0 },
    { name: 'one other file in the interval', recent: [r('log.txt', 500, 10, 500), r('mine.md', 600, 10, 600)], want: PAGE },
    { name: 'written before the interval', recent: [r('old.txt', 50, 10, 50)], want: 0 },
    { name: 'mtime before the first sample, event inside', recent: [r('a.txt', 200, 10, 90)], want: 0 },
    { name: 'mtime after the second sample', recent: [r('a.txt', 1200, 10, 1100)], want: 0 },
    { name: 'mtime within the slack before the second sample, event after it: in doubt, nothing', recent: [r('a.txt', 1100, 10, 1000 - 1)], want: 0 },
    { name: 'mtime within the slack, event already in before the second sample: counted', recent: [r('a.txt', 1000, 10, 1000 - 1)], want: PAGE },
    { name: 'a deletion explains nothing', recent: [r('gone.txt', 500, 0)], want: 0 },
    { name: 'each path once', recent: [r('a.txt', 400, 10, 400), r('a.txt', 500, 10, 500)], want: PAGE },
    { name: 'a person wrote it (fanotify)', recent: [r('theirs.md', 500, 10, 500)], human: { 'theirs.md': 500 }, want: 0 },
    { name: 'stops once everything is explained (older paths are not counted)', recent: [r('c.txt', 300, 10, 300), r('b.txt', 400, 5000, 400), r('a.txt', 500, 5000, 500)], want: 2 * PAGE },
    { name: 'paths add up until explained', recent: [r('c.txt', 300, 10, 300), r('b.txt', 400, 10, 400), r('a.txt', 500, 10, 500)], want: 2 * PAGE },
    {
      name: 'sizes looked up on demand',
      recent: [r('a.txt', 500), r('b.txt', 600)],
      sizes: { 'a.txt': [10, 500], 'b.txt': [10, 600] },
      lookups: 5,
      want: 2 * PAGE,
      looked: ['b.txt', 'a.txt'],
    },
    {
      name: 'lookup budget spent: an unknown size explains everything (towards ALLOW)',
      recent: [r('a.txt', 500), r('b.txt', 600)],
      sizes: { 'b.txt': [10, 600] },
      lookups: 1,
      want: Number.MAX_SAFE_INTEGER,
      looked: ['b.txt'],
    },
  ];
  for (const c of cases) {
    const got = explain({ ...base, recent: c.recent, ...(c.human ? { human: c.human } : {}) }, c.sizes ?? {}, c.lookups ?? 0);
    assert.equal(got.explained, c.want, c.name);
    if (c.looked) assert.deepEqual(got.looked, c.looked, `${c.name}: lookups`);
  }
});
