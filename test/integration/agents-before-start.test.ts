/**
 * Agents already working when winnow starts, as an ordinary user (process tracing, no root): what
 * they wrote before the start is found changed by the start-up crawl with no writer known. Their
 * next writes are traced; none of their files is committed, and the person's edits are.
 * Real daemon, real strace, real shell agent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, chownSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { testUser, userRepo, type TestUser } from '../helpers/user.js';
import { DaemonProcess, fastConfig, winnow } from '../helpers/daemon.js';

const u = testUser();
const skip = process.platform !== 'linux' ? 'needs Linux' : 'skip' in u ? u.skip : !existsSync('/usr/bin/strace') ? 'strace is not installed' : false;

test('agents started before winnow: nothing they wrote before or after the start is committed; the person\'s edits are', { skip, timeout: 90_000 }, async (t) => {
  const user = u as TestUser;
  const repo = await userRepo(user);
  t.after(() => repo.cleanup());
  repo.write('status.json', '{"timestamp":"0","n":0}\n');
  repo.write('work/log.md', '# log\n');
  repo.write('notes.md', '# notes\n');
  repo.git('add', '-A');
  repo.git('commit', '-q', '-m', 'start');
  const name = `claude-autonomous-early-${process.pid}`;
  const cfg = `${repo.root}.winnow.json`;
  // A window long enough that the agent's first traced write comes inside it, even under load.
  writeFileSync(cfg, fastConfig({ autonomous: { fanotify: 'auto', trace: 'auto', commands: [name] }, debounce: { defaultMs: 1_500, rules: [], maxMs: 5_000, maxWaitMs: 20_000 } }));
  chownSync(cfg, user.uid, user.gid);

  // Content changes, not only timestamps: layer 3 would let them through.
  // It writes both files, waits (winnow starts meanwhile), then writes them every 100 ms.
  const loop = 'n=0; while :; do n=$((n+1)); printf "{\\"timestamp\\":\\"%s\\",\\"n\\":%d}\\n" "$(date +%s%N)" $n > status.json; echo "step $n" >> work/log.md; if [ $n = 1 ]; then echo wrote; read go; fi; sleep 0.1; done';
  const agent = user.spawn('bash', ['-c', `exec -a ${name} bash -c '${loop}'`], { cwd: repo.root, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => agent.once('exit', resolve));
  t.after(async () => {
    agent.kill('SIGKILL');
    await exited;
  });
  await new Promise<void>((resolve) => createInterface({ input: agent.stdout! }).once('line', () => resolve()));

  const d = new DaemonProcess(repo.root, ['--config', cfg], {}, { as: user });
  t.after(() => d.stop());
  await d.ready();
  agent.stdin!.write('go\n');
  // The agent is traced from here on: its next write to each file is its own, and what the start
  // found changed there, with no writer known, is no longer pending.
  for (const path of ['status.json', 'work/log.md']) {
    await d.waitFor((l) => l.msg === 'decision' && l.path === path && l.decision === 'BLOCK' && l.layer === 2);
    await d.waitFor((l) => l.msg.startsWith('accepted change dropped') && l.path === path);
  }
  const first = d.next((l) => l.msg === 'commit');
  repo.write('notes.md', '# notes\n- the person, while the agent works\n');
  assert.deepEqual((await first).paths, ['notes.md']);

  agent.kill('SIGTERM');
  await exited;
  const second = d.next((l) => l.msg === 'commit');
  repo.write('notes.md', '# notes\n- the person, while the agent works\n- and after it stopped\n');
  assert.deepEqual((await second).paths, ['notes.md']);

  const touched = repo.git('log', '--format=%s', '--', 'status.json', 'work/log.md').trim().split('\n');
  assert.deepEqual(touched, ['start'], 'no commit but the first has the agent\'s files');
  const st = await winnow(['status', repo.root, '--json'], repo.root, {}, { as: user });
  assert.equal(st.code, 0, st.stderr);
  const pending = (JSON.parse(st.stdout) as { pending?: { path: string }[] }).pending ?? [];
  assert.deepEqual(pending.map((p) => p.path).filter((p) => p !== 'notes.md'), [], 'nothing of the agent waits to be committed');
});
