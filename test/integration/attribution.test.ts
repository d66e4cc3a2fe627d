/**
 * Issue #3's "done when", through the real daemon without fanotify: an agent rewrites status and
 * context files (timestamp-only, real content, through a child shell, into a held-open file)
 * while a person edits files under ANALYZE rules. Each person's write comes after winnow has
 * decided the agent's last write, and a correlation window after it (issue #3: without an exact
 * trace, the promise holds when the two are further apart than the window). Every change of the
 * person is committed; none of the agent's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { tempRepo } from '../helpers/repo.js';
import { DaemonProcess, fastConfig, winnow, statusUntil } from '../helpers/daemon.js';

const AGENT = fileURLToPath(new URL('../fixtures/claude-autonomous-driven.mjs', import.meta.url));
const linux = process.platform === 'linux';

test('without fanotify: every change the person makes is committed and none of the agent\'s', { skip: linux ? false : 'needs /proc (Linux)', timeout: 90_000 }, async (t) => {
  const repo = await tempRepo();
  await repo.write('.claude/contexts/status.json', JSON.stringify({ state: 'idle', updated_at: '2026-01-01T00:00:00Z' }, null, 2) + '\n');
  await repo.write('docs/agent-notes.md', '# Agent notes\n');
  await repo.write('reports/progress.md', '# Progress\n');
  await repo.write('notes.md', '# My notes\n');
  await repo.write('plan.md', '# Plan\n');
  repo.git('add', '.');
  repo.git('commit', '-q', '-m', 'start');
  const start = repo.git('rev-parse', 'HEAD').trim();
  const cfg = `${repo.root}.winnow.json`;
  // Everything the agent and the person touch is ANALYZE: only layers 2 and 3 can tell.
  const windowMs = 1_000;
  // Heuristics only (no fanotify, no tracing), and only this test's agent: write counters do not
  // look at a process's cwd, so agents of other test files running meanwhile must not match.
  const tag = `claude-autonomous-driven\\.mjs ${repo.root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
  await writeFile(cfg, fastConfig({ rules: ['ANALYZE:**:everything is analyzed here'], autonomous: { fanotify: 'off', trace: 'off', correlationWindowMs: windowMs, commands: [tag] } }));
  let agentWroteAt = 0;
  const agentProc = spawn(process.execPath, [AGENT, repo.root], { cwd: repo.root, stdio: ['pipe', 'pipe', 'pipe'] });
  const agentErr: string[] = [];
  agentProc.stderr!.on('data', (b: Buffer) => agentErr.push(String(b)));
  const replies: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const reply = () => new Promise<void>((resolve, reject) => replies.push({ resolve, reject }));
  createInterface({ input: agentProc.stdout! }).on('line', () => replies.shift()?.resolve());
  // An agent that dies fails the awaited step instead of leaving it pending.
  agentProc.once('exit', (code, signal) => {
    for (const r of replies.splice(0)) r.reject(new Error(`agent exited (${code ?? signal}): ${agentErr.join('')}`));
  });
  const agentReady = reply();
  const d = new DaemonProcess(repo.root, ['--config', cfg]);
  let d2: DaemonProcess | undefined;
  // A timed-out test does not run its finally: end the children here so the file can exit.
  t.signal.addEventListener('abort', () => {
    console.error(`aborted; the daemon's last decisions:\n${d.stderrText.filter((l) => /"(decision|commit)"/.test(l)).slice(-12).join('\n')}`);
    agentProc.kill('SIGKILL');
    d.child.kill('SIGKILL');
    d2?.child.kill('SIGKILL');
  });
  const agent = async (cmd: string, path: string, text = ''): Promise<void> => {
    // The decision on the agent's write is awaited before anything else happens.
    const decided = d.next((l) => l.msg === 'decision' && l.path === path);
    const ok = reply();
    agentProc.stdin!.write(JSON.stringify({ cmd, file: join(repo.root, path), text }) + '\n');
    await ok;
    agentWroteAt = Date.now();
    const l = await decided;
    assert.equal(l.decision, 'BLOCK', `agent's ${cmd} of ${path}: ${String(l.reason)}`);
  };
  const person = async (path: string, text: string): Promise<void> => {
    // Without fanotify the promise holds when the person's and the agent's writes are further
    // apart than the correlation window: write counters cannot say which of two writes a few ms
    // apart got the bytes (and a child's bytes reach its parent's counter only when it is reaped,
    // after the child's write). This wait sets up that input; it waits for nothing in winnow.
    const gap = agentWroteAt + windowMs - Date.now();
    if (gap > 0) await delay(gap);
    // The next commit of it, not an earlier one of the same path.
    const committed = d.next((l) => l.msg === 'commit' && Array.isArray(l.paths) && (l.paths as string[]).includes(path));
    await repo.write(path, text);
    await committed;
  };
  try {
    await agentReady;
    await d.ready();
    await agent('touch-json', '.claude/contexts/status.json');
    await agent('sh', 'docs/agent-notes.md', '# Agent notes\n- step 1 by a child shell\n');
    await person('notes.md', '# My notes\n- first thought\n');
    await agent('hold', 'reports/progress.md', '# Progress\n- 10%\n');
    await agent('write', '.claude/contexts/status.json', JSON.stringify({ state: 'working on step 2', updated_at: new Date().toISOString() }, null, 2) + '\n');
    await person('plan.md', '# Plan\n- do the thing\n');
    await agent('touch-json', '.claude/contexts/status.json');
    await agent('write', 'docs/agent-notes.md', '# Agent notes\n- step 1 by a child shell\n- step 2 directly\n');
    // The person edits the file the agent writes: their version is committed.
    await person('docs/agent-notes.md', '# Agent notes\n- step 1 by a child shell\n- step 2 directly\n- reviewed by me\n');
    await agent('sh', '.claude/contexts/status.json', JSON.stringify({ state: 'done', updated_at: new Date().toISOString() }) + '\n');
    await person('notes.md', '# My notes\n- first thought\n- second thought\n');

    const changed = repo.git('diff', '--name-only', start, 'HEAD').trim().split('\n').sort();
    assert.deepEqual(changed, ['docs/agent-notes.md', 'notes.md', 'plan.md']);
    assert.equal(repo.git('show', 'HEAD:notes.md'), '# My notes\n- first thought\n- second thought\n');
    assert.equal(repo.git('show', 'HEAD:plan.md'), '# Plan\n- do the thing\n');
    assert.equal(repo.git('show', 'HEAD:docs/agent-notes.md'), '# Agent notes\n- step 1 by a child shell\n- step 2 directly\n- reviewed by me\n');
    // No commit holds an agent-only path, and no agent-only commit exists.
    for (const sha of repo.git('rev-list', `${start}..HEAD`).trim().split('\n')) {
      const files = repo.git('show', '--name-only', '--format=', sha).trim().split('\n');
      assert.ok(files.every((f) => ['docs/agent-notes.md', 'notes.md', 'plan.md'].includes(f)), `commit ${sha} holds ${files.join(', ')}`);
      if (files.length === 1 && files[0] === 'docs/agent-notes.md') {
        assert.match(repo.git('show', `${sha}:docs/agent-notes.md`), /reviewed by me/, 'the agent-notes commit is the person\'s');
      }
    }

    // `status` names what is held back on timing alone: the agent's last write (through a child
    // shell, so only its write counter told), never what the person wrote and winnow committed.
    const last = d.stderrText
      .map((l) => JSON.parse(l) as Record<string, any>)
      .filter((l) => l.msg === 'decision' && l.path === '.claude/contexts/status.json')
      .pop()!;
    assert.equal(last.decision, 'BLOCK');
    assert.deepEqual([...new Set((last.evidence as { kind: string }[]).map((x) => x.kind))], ['temporal'], JSON.stringify(last));
    // The daemon writes its state file a moment after a decision: wait for that state.
    const listed = (pid: number) =>
      statusUntil(
        repo.root,
        (s) => s.pid === pid && s.timingOnly?.some((x: { path: string }) => x.path === '.claude/contexts/status.json'),
        "the agent's timing-only write",
        20_000,
      );
    let st = await listed(d.child.pid!);
    assert.deepEqual(st.timingOnly.map((x: { path: string }) => x.path), ['.claude/contexts/status.json']);
    assert.equal(st.timingOnly[0].reason, last.reason);
    const text = (await winnow(['status'], repo.root)).stdout;
    assert.match(text, /timing only 1 change held back on timing evidence alone[^\n]*commit it yourself[^\n]*\n  \.claude\/contexts\/status\.json  /);
    // Still listed after a restart (the path is not decided again: its file is unchanged).
    assert.equal((await d.stop()).code, 0);
    d2 = new DaemonProcess(repo.root, ['--config', cfg]);
    await d2.ready();
    st = await listed(d2.child.pid!);
    assert.equal(st.timingOnly[0].reason, last.reason);
    // Committed by hand: no longer held back.
    repo.git('commit', '-q', '-m', 'mine after all', '--', '.claude/contexts/status.json');
    assert.deepEqual(JSON.parse((await winnow(['status', '--json'], repo.root)).stdout).timingOnly, []);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${d.stderrText.filter((t) => t.includes('"decision"')).slice(-12).join('\n')}`);
  } finally {
    agentProc.kill();
    await d.kill();
    await d2?.kill();
    await repo.cleanup();
    await unlink(cfg).catch(() => undefined);
  }
});
