import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonLogger } from '../../src/adapters/json-logger.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

test('json logger: the lines of one event-loop turn are written and echoed at once, in order; a warning at once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'winnow-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'winnow.log');
  const echoes: string[] = [];
  const log = createJsonLogger({ file, echo: (l) => echoes.push(l), now: () => 0 });
  for (let i = 0; i < 500; i++) log.log('info', 'decision', { i });
  assert.equal(echoes.length, 0, 'nothing written inside the turn');
  await turn();
  assert.equal(echoes.length, 1, 'one write for the turn');
  const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { i: number });
  assert.deepEqual(lines.map((l) => l.i), Array.from({ length: 500 }, (_, i) => i));
  log.log('info', 'before');
  log.log('warn', 'trouble');
  assert.equal(echoes.length, 2, 'a warning is written at once, with what came before it');
  assert.match(echoes[1]!, /"before"[^\n]*\n[^\n]*"trouble"/);
  log.log('debug', 'hidden');
  await turn();
  assert.equal(echoes.length, 2, 'below the level: nothing');
});

test('json logger: a turn of more than 64 KiB is written in parts, never held whole', () => {
  const echoes: string[] = [];
  const log = createJsonLogger({ echo: (l) => echoes.push(l), now: () => 0 });
  for (let i = 0; i < 2000; i++) log.log('info', 'decision', { path: 'x'.repeat(100) });
  assert.ok(echoes.length >= 3, `written ${echoes.length} times`);
  assert.ok(echoes.every((e) => e.length <= 64 * 1024 + 200));
});
