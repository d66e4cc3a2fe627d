import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coalesce, committableFirst, type WatchEvent } from '../../src/core/event.js';

const ev = (path: string, at: number, priority: WatchEvent['priority'] = 'normal'): WatchEvent => ({ path, kind: 'update', stream: 'all', priority, at });

test('a storm queue puts what the rules do not block first, keeping each group in order', () => {
  const storm = Array.from({ length: 2_000 }, (_, i) => ev(`build/out/f${i}.js`, i));
  const queued = coalesce([...storm.slice(0, 1_500), ev('notes.md', 1_500), ...storm.slice(1_500), ev('src/a.ts', 2_100, 'high')]);
  const blocked = (p: string) => p.startsWith('build/');
  const out = committableFirst(queued, blocked);
  assert.deepEqual(out.slice(0, 2).map((e) => e.path), ['src/a.ts', 'notes.md']);
  assert.equal(out.length, queued.length);
  assert.deepEqual(out.slice(2).map((e) => e.path), queued.filter((e) => blocked(e.path)).map((e) => e.path));
  assert.deepEqual(committableFirst([], blocked), []);
});
