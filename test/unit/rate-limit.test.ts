import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialRateLimit, nextAllowedAt, consume, allowed, tokensAt, commitsToday, restoreRateLimit, saveRateLimit, HOUR_MS, DAY_MS } from '../../src/core/commit/rate-limit.js';

const T0 = Date.UTC(2026, 0, 1);

function run(limits: { maxPerHour: number; maxPerDay: number; minIntervalMs: number }, commitTimes: number[]) {
  let s = initialRateLimit(limits, T0);
  for (const t of commitTimes) {
    assert.ok(allowed(s, t), `commit at +${t - T0} should be allowed`);
    s = consume(s, t);
  }
  return s;
}

test('rate limit: table of next allowed times', () => {
  const cases: { name: string; limits: { maxPerHour: number; maxPerDay: number; minIntervalMs: number }; commits: number[]; at: number; want: number }[] = [
    { name: 'fresh bucket allows now', limits: { maxPerHour: 10, maxPerDay: 50, minIntervalMs: 0 }, commits: [], at: T0, want: T0 },
    {
      name: 'bucket empty after a burst: one token refills in 1/maxPerHour hour',
      limits: { maxPerHour: 2, maxPerDay: 50, minIntervalMs: 0 },
      commits: [T0, T0],
      at: T0,
      want: T0 + HOUR_MS / 2,
    },
    {
      name: 'half a token refilled: wait the other half',
      limits: { maxPerHour: 2, maxPerDay: 50, minIntervalMs: 0 },
      commits: [T0, T0],
      at: T0 + HOUR_MS / 4,
      want: T0 + HOUR_MS / 2,
    },
    {
      name: 'min interval',
      limits: { maxPerHour: 100, maxPerDay: 100, minIntervalMs: 5000 },
      commits: [T0],
      at: T0 + 1000,
      want: T0 + 5000,
    },
    {
      name: 'daily cap: wait until the oldest commit leaves the 24 h window',
      limits: { maxPerHour: 100, maxPerDay: 2, minIntervalMs: 0 },
      commits: [T0, T0 + 1000],
      at: T0 + 2000,
      want: T0 + DAY_MS,
    },
    {
      name: 'daily cap lifts a day later',
      limits: { maxPerHour: 100, maxPerDay: 2, minIntervalMs: 0 },
      commits: [T0, T0 + 1000],
      at: T0 + DAY_MS + 1,
      want: T0 + DAY_MS + 1,
    },
  ];
  for (const c of cases) assert.equal(nextAllowedAt(run(c.limits, c.commits), c.at), c.want, c.name);
});

test('rate limit: tokens refill to at most maxPerHour; today counts the rolling day', () => {
  const s = run({ maxPerHour: 10, maxPerDay: 50, minIntervalMs: 0 }, [T0, T0 + 1, T0 + 2]);
  assert.ok(Math.abs(tokensAt(s, T0 + 2) - 7) < 1e-3);
  assert.equal(tokensAt(s, T0 + 10 * HOUR_MS), 10);
  assert.equal(commitsToday(s, T0 + 3), 3);
  assert.equal(commitsToday(s, T0 + DAY_MS + 3), 0);
});

test('rate limit: is a pure function (state in, state out)', () => {
  const s = initialRateLimit({ maxPerHour: 1, maxPerDay: 5, minIntervalMs: 0 }, T0);
  const s2 = consume(s, T0);
  assert.equal(tokensAt(s, T0), 1);
  assert.equal(tokensAt(s2, T0), 0);
  assert.equal(nextAllowedAt(s2, T0), T0 + HOUR_MS);
});

test('rate limit: saved counters are restored under the current limits; malformed or future values never free or freeze it', () => {
  const limits = { maxPerHour: 10, maxPerDay: 3, minIntervalMs: 0 };
  const now = 10 * DAY_MS;
  let s = initialRateLimit(limits, now - 3 * HOUR_MS);
  for (const t of [now - 3 * HOUR_MS, now - 2 * HOUR_MS, now - HOUR_MS]) s = consume(s, t);
  const back = restoreRateLimit(limits, JSON.parse(JSON.stringify(saveRateLimit(s))), now);
  assert.equal(commitsToday(back, now), 3);
  assert.equal(nextAllowedAt(back, now), now - 3 * HOUR_MS + DAY_MS, 'the daily cap still holds after the restart');
  // Tighter limits after the restart: the bucket holds at most the new maxPerHour.
  assert.equal(restoreRateLimit({ ...limits, maxPerHour: 1 }, saveRateLimit(s), now).tokens <= 1, true);
  for (const bad of [null, 'x', { version: 2 }, { version: 1, tokens: 'a', at: 0, recent: [] }, { version: 1, tokens: 1, at: 0, recent: 'no' }]) {
    assert.deepEqual(restoreRateLimit(limits, bad, now), initialRateLimit(limits, now), JSON.stringify(bad));
  }
  // A clock set back: a saved time after now counts as now, not as a commit in the future.
  const future = restoreRateLimit(limits, { version: 1, tokens: 0, at: now + DAY_MS, recent: [now + DAY_MS], lastAt: now + DAY_MS }, now);
  assert.deepEqual(future.recent, [now]);
  assert.equal(future.at, now);
});
