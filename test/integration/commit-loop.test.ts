import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile, unlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tempRepo } from '../helpers/repo.js';
import { DaemonProcess, fastConfig } from '../helpers/daemon.js';

const MONITOR = fileURLToPath(new URL('../fixtures/claude-commit-monitor.mjs', import.meta.url));
/** The person's pause after each commit: every one longer than the correlation window. */
const PAUSES_MS = [700, 1900, 900, 2600, 700];

test('without fanotify, a monitor that rewrites a file after every commit does not become a commit loop', { timeout: 60_000 }, async (t) => {

  const repo = await tempRepo();
  await repo.write('.claude/contexts/last-commit.json', '{"last_commit": null, "commits_seen": 0}\n');
  repo.git('add', '.');
  repo.git('commit', '-q', '-m', 'agent state');
  const cfg = `${repo.root}.winnow.json`;
  // fanotify off: only the process table, open handles and write counters tell who wrote what.
  // Only this test's monitor (its command line names the workspace): write counters do not look
  // at a process's cwd, so agents of other test files running meanwhile must not match.
  const tag = `claude-commit-monitor\\.mjs ${repo.root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
  await writeFile(cfg, fastConfig({ autonomous: { fanotify: 'off', trace: 'off', correlationWindowMs: 500, commands: [tag] } }));
  // Agents work in the workspace: its cwd is the root (temporal correlation ignores agents elsewhere).
  const monitor = spawn(process.execPath, [MONITOR, repo.root], { cwd: repo.root, stdio: ['ignore', 'pipe', 'inherit'] });
  const d = new DaemonProcess(repo.root, ['--config', cfg]);
  // A timed-out test does not run its catch: say what the daemon decided last, and end the children.
  t.signal.addEventListener('abort', () => {
    console.error(`aborted; the daemon's last decisions:\n${d.stderrText.filter((l) => /"(decision|commit)"/.test(l)).slice(-12).join('\n')}`);
    monitor.kill('SIGKILL');
    d.child.kill('SIGKILL');
  });
  try {
    await once(monitor.stdout!, 'data');
    await d.ready();
    // A person edits a note several times, each edit committed before the next.
    for (let i = 0; i < 5; i++) {
      const c = d.next((l) => l.msg === 'commit' && (l.paths as string[]).includes('notes.md'));
      await repo.write('notes.md', `edit ${i}\n`);
      const committed = await c;
      // The monitor's reaction is decided before the person's next edit: the first decision after
      // the commit's line, which may have come in the same read of stderr as the commit (under
      // load), before an awaiter made now could see it.
      await d.waitFor((l) => l.msg === 'decision' && l.path === '.claude/contexts/last-commit.json', { fromIndex: d.lines.indexOf(committed) + 1 });
      // Pacing, not synchronisation: without fanotify winnow can only tell the two writers apart
      // when they are further apart than the correlation window (500 ms here). SPEC's condition.
      // Uneven, as a person's are: five saves evenly spaced would be a schedule, which the churn
      // detector quarantines when no writer is known (unit/churn.test.ts).
      await new Promise((r) => setTimeout(r, PAUSES_MS[i]));
    }
    const reactionsCommitted = repo
      .git('log', '--format=%H', '--', '.claude/contexts/last-commit.json')
      .trim()
      .split('\n')
      .filter(Boolean).length - 1; // minus the person's initial commit of it
    assert.equal(repo.git('show', 'HEAD:notes.md'), 'edit 4\n', 'every edit of the person is committed');
    assert.ok(reactionsCommitted <= 1, `at most the first reaction can pass as a change; ${reactionsCommitted} were committed`);
    // Held back by whichever evidence caught them (write activity, or the commit-reaction rule).
    const reactions = d.lines.filter((l) => l.msg === 'decision' && l.path === '.claude/contexts/last-commit.json');
    assert.ok(reactions.length >= 4, `the monitor reacted to the commits (${reactions.length} decisions)`);
    assert.ok(reactions.slice(1).every((l) => l.decision === 'BLOCK' && typeof l.reason === 'string'), 'every reaction after the first is held back, with a reason');
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${d.stderrText.slice(-25).join('\n')}`);
  } finally {
    monitor.kill();
    await d.kill();
    await repo.cleanup();
    await unlink(cfg).catch(() => undefined);
  }
});
