/**
 * `filter test` shows what the daemon would do (issue 12): the overrides applied after the
 * classifier (churn quarantine, commit reactions, earlier blocks) come from the state the running
 * daemon last wrote; with no daemon running, the explanation says they were not applied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { releaseLock, tryAcquireLock } from '../../src/daemon/lifecycle/lock.js';
import { tempRepo } from '../helpers/repo.js';

function capture(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), cwd, env: {}, isTTY: false };
  return { io, records: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { path: string; decision: string; layer: number; rule: string | null; reason: string }), err: () => err.join('') };
}

test('filter test: a path the running daemon quarantines is shown as BLOCK builtin:churn; without a daemon the explanation says so', async (t) => {
  const repo = await tempRepo();
  t.after(() => repo.cleanup());
  await repo.write('status/counter.json', '{"n": 5, "items": ["a"]}\n');
  await repo.write('notes/draft.md', 'my words\n');
  const stateDir = join(repo.root, '.git', 'winnow');

  // No daemon: the classifier's answer, with a word on what was not applied.
  let c = capture(repo.root);
  assert.equal(await main(['filter', 'test', '--json', 'status/counter.json'], c.io), 0, c.err());
  const [r] = c.records();
  assert.equal(r!.decision, 'ALLOW', r!.reason);
  assert.match(r!.reason, /no daemon runs on this workspace/);

  // A daemon runs (this process holds daemon.lock) and its state.json quarantines the path.
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const lock = join(stateDir, 'daemon.lock');
  const got = await tryAcquireLock(lock, { root: repo.root });
  assert.ok(got.ok);
  t.after(() => releaseLock(lock));
  await writeFile(join(stateDir, 'state.json'), JSON.stringify({ version: 1, quarantined: [{ path: 'status/counter.json', events: 7, periodMs: 30_000 }] }));
  c = capture(repo.root);
  assert.equal(await main(['filter', 'test', '--json', 'status/counter.json', 'notes/draft.md'], c.io), 0, c.err());
  const [q, other] = c.records();
  assert.equal(q!.decision, 'BLOCK', q!.reason);
  assert.equal(q!.rule, 'builtin:churn');
  assert.match(q!.reason, /quarantined: changed 7 times every ~30 s/);
  // A path the daemon does not hold is left as the classifier decided, with no "no daemon" note.
  assert.equal(other!.decision, 'ALLOW', other!.reason);
  assert.doesNotMatch(other!.reason, /no daemon/);
});
