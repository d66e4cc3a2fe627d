/**
 * The settle stage's timer with a manual clock: a renamed directory whose files arrive over two
 * watcher batches still lands in one commit (issue 11 case 7).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Settler } from '../../src/daemon/settle/settler.js';
import { mergeConfig } from '../../src/core/config/schema.js';
import { ManualClock } from '../helpers/clock.js';

test('a moved folder: the first new file waits for its deletion partner, so a sibling found later lands in the same batch', async () => {
  const clock = new ManualClock();
  const batches: string[][] = [];
  const onDisk = new Set<string>();
  const debounce = { ...mergeConfig({}).debounce, defaultMs: 4_000, rules: [], maxMs: 8_000, maxWaitMs: 20_000 };
  const s = new Settler({ clock, scheduler: clock, debounce, onDue: (p) => batches.push([...p].sort()), present: (p) => onDisk.has(p) });
  const t0 = clock.now();
  const oldMtime = t0 - 60_000;
  // `mv old new`: the watcher reports the deletions and the first new file…
  for (const p of ['old/a.md', 'old/b.md']) s.accept(p, t0, { heat: true, writtenAt: t0 });
  onDisk.add('new/a.md').add('new/b.md');
  s.accept('new/a.md', t0, { heat: true, writtenAt: oldMtime });
  s.arm();
  await clock.advance(100);
  assert.deepEqual(batches.filter((b) => b.length), [], 'new/a.md (an old mtime, due at once) waits for old/a.md');
  // …and the second one a batch later.
  s.accept('new/b.md', clock.now(), { heat: true, writtenAt: oldMtime });
  s.arm();
  await clock.advance(4_000);
  assert.deepEqual(batches.filter((b) => b.length), [['new/a.md', 'new/b.md', 'old/a.md', 'old/b.md']]);
  assert.equal(s.waiting(), false);
});

test('a file with an old mtime and no move partner is due at once', async () => {
  const clock = new ManualClock();
  const batches: string[][] = [];
  const s = new Settler({ clock, scheduler: clock, debounce: mergeConfig({}).debounce, onDue: (p) => batches.push(p), present: () => true });
  s.accept('other/a.md', clock.now(), { heat: true, writtenAt: clock.now() - 3_600_000 });
  s.accept('copied.md', clock.now(), { heat: true, writtenAt: clock.now() - 3_600_000 });
  s.arm();
  await clock.advance(1);
  assert.deepEqual(batches, [['copied.md', 'other/a.md']], 'two present files are not a move');
});
