/**
 * Atomic saves under fanotify: an editor writes a temp file and renames it over the target, so
 * the target itself gets no write event; fatrace reports the rename on the directory only. The
 * writer of the target is the process that moved something into its directory. Before, such a
 * save had no fanotify writer and fell to write counters, which blamed an agent writing at the
 * same moment (a person's save held back: the bench e2e "small" scenario under load).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tempRepo } from '../helpers/repo.js';
import { realClassifier } from '../helpers/classifier.js';
import type { WatchEvent } from '../../src/core/event.js';

const skip = (() => {
  if (process.platform !== 'linux') return 'fanotify exists only on Linux';
  if (process.getuid?.() !== 0) return 'fanotify needs root (or CAP_SYS_ADMIN); running as a normal user';
  try {
    accessSync('/usr/sbin/fatrace', constants.X_OK);
  } catch {
    return 'fatrace is not installed (/usr/sbin/fatrace)';
  }
  return false;
})();

/** An agent that, per stdin line, writes a big file and saves another atomically. */
const AGENT_SRC = `
import { writeFileSync, renameSync } from 'node:fs';
import { createInterface } from 'node:readline';
createInterface({ input: process.stdin }).on('line', (line) => {
  const [big, target] = line.split('\\t');
  writeFileSync(big, 'agent bytes '.repeat(2000));
  writeFileSync(target + '.tmp', '{"agent":"state"}');
  renameSync(target + '.tmp', target);
  process.stdout.write('ok\\n');
});
process.stdout.write('ready\\n');
`;

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('with fanotify: an atomic save is attributed to the process that renamed it into place, the person\'s and the agent\'s alike', { skip }, async () => {
  const repo = await tempRepo();
  cleanups.push(() => repo.cleanup());
  await repo.write('docs/notes.md', 'v1\n');
  await repo.write('state/agent.json', '{}');
  repo.git('add', '-A');
  repo.git('commit', '-q', '-m', 'base');
  // The person is this test process: its own writes must count.
  const { c } = await realClassifier(repo.root, true, cleanups);

  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-agent-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'claude-autonomous.mjs'), AGENT_SRC);
  const agent = spawn(process.execPath, [join(dir, 'claude-autonomous.mjs')], { stdio: ['pipe', 'pipe', 'inherit'], cwd: repo.root }) as unknown as ChildProcessWithoutNullStreams;
  cleanups.push(() => void agent.kill());
  const lines = createInterface({ input: agent.stdout })[Symbol.asyncIterator]();
  assert.equal((await lines.next()).value, 'ready');

  // A warm-up decision samples the agent's counters, as the running daemon would have.
  await repo.write('warm.md', 'w');
  const ev = (path: string): WatchEvent => ({ path, kind: 'update', stream: 'all', priority: 'normal', at: Date.now() });
  await c.classify([ev('warm.md')]);

  const reply = lines.next(); // awaiter before the action
  agent.stdin.write(`${join(repo.root, 'docs', 'agent-big.md')}\t${join(repo.root, 'state', 'agent.json')}\n`);
  // The person's editor saves atomically in the same moment, into another directory.
  await writeFile(join(repo.root, 'docs', '.notes.md.swp'), 'v2, typed by a person\n');
  await rename(join(repo.root, 'docs', '.notes.md.swp'), join(repo.root, 'docs', 'notes.md'));
  assert.equal((await reply).value, 'ok');

  const ds = await c.classify([ev('docs/notes.md'), ev('state/agent.json')]);
  const why = JSON.stringify(ds.map((d) => [d.path, d.reason, d.evidence]));
  assert.deepEqual(ds.map((d) => d.decision), ['ALLOW', 'BLOCK'], why);
  const person = ds[0]!.evidence!.find((e) => e.kind === 'fanotify');
  assert.ok(person, `the person's save has fanotify evidence: ${why}`);
  assert.equal(person.pid, process.pid);
  assert.equal(person.autonomous, false);
  const agentEv = ds[1]!.evidence!.find((e) => e.kind === 'fanotify');
  assert.ok(agentEv, `the agent's atomic save has fanotify evidence: ${why}`);
  assert.equal(agentEv.pid, agent.pid);
});
