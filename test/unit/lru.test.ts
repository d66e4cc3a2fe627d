import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LRUCache } from 'lru-cache';
import { growingBound } from '../../src/util/lru.js';

test('growingBound: at most N entries, the least recently used evicted first', () => {
  const c = new LRUCache<number, string>(growingBound(3));
  for (const k of [1, 2, 3]) c.set(k, `v${k}`);
  c.get(1);
  c.set(4, 'v4');
  assert.deepEqual([...c.keys()].sort(), [1, 3, 4]);
  for (let k = 10; k < 1000; k++) c.set(k, 'x');
  assert.equal(c.size, 3);
});

test('growingBound: the bound holds beside a ttl', () => {
  const c = new LRUCache<number, number[]>({ ...growingBound(2), ttl: 10_000 });
  for (let k = 0; k < 50; k++) c.set(k, [k]);
  assert.equal(c.size, 2);
  assert.deepEqual(c.get(49), [49]);
});

test('growingBound: a large bound allocates nothing up front (lineage map: 65,536 entries held ~1.4 MB each when made)', () => {
  const before = process.memoryUsage().heapUsed;
  const kept = Array.from({ length: 10 }, () => new LRUCache<number, number>(growingBound(65_536)));
  const grew = process.memoryUsage().heapUsed - before;
  assert.equal(kept.length, 10);
  // With `max: 65_536` ten caches take ~10 MB of heap; these take a few KB.
  assert.ok(grew < 1024 * 1024, `ten empty caches took ${grew} bytes of heap`);
});
