import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rescanner } from '../../src/daemon/watch/rescan.js';
import { KnownDecisions } from '../../src/daemon/classify/known-decisions.js';
import type { StatusEntry } from '../../src/ports/index.js';
import type { WatchEvent } from '../../src/core/event.js';
import { ManualClock } from '../helpers/clock.js';

test('rescan: files a rule blocks are not judged again, known or not (a storm\'s 20k build files in git status)', async () => {
  const clock = new ManualClock();
  const status: StatusEntry[] = [
    { code: '??', path: 'notes.md' },
    ...Array.from({ length: 1000 }, (_, i): StatusEntry => ({ code: '??', path: `build/out/f${i}.js` })),
    { code: ' M', path: 'src/app.ts' },
  ];
  const judged: WatchEvent[] = [];
  const r = new Rescanner({
    clock,
    scheduler: clock,
    logger: { log() {} },
    git: { status: async () => status },
    known: new KnownDecisions(),
    rescanMs: 0,
    isAccepted: () => false,
    blockedByRule: (p) => p.startsWith('build/'),
    identity: async (p) => `1:${p}`,
    classify: async (events) => void judged.push(...events),
    afterPeriodic() {},
    onDone() {},
  });
  await r.rescan('test');
  assert.deepEqual(judged.map((e) => e.path).sort(), ['notes.md', 'src/app.ts']);
});
