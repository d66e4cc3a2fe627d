import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { runMessageCommand } from '../../src/adapters/message-command.js';

test('message command: stdin in, stdout out; a failure, a timeout and a missing shell command are answers, not throws', async () => {
  const cwd = tmpdir();
  assert.deepEqual(await runMessageCommand('tr a-z A-Z', 'fix typo\n', { cwd, timeoutMs: 10_000 }), { ok: true, stdout: 'FIX TYPO\n' });
  const failed = await runMessageCommand('echo nope >&2; exit 4', '', { cwd, timeoutMs: 10_000 });
  assert.deepEqual(failed, { ok: false, error: 'exited with 4: nope' });
  // A command that ignores its stdin and hangs, with a child of its own: killed with its group.
  const slow = await runMessageCommand('sleep 30 & sleep 30', 'x', { cwd, timeoutMs: 300 });
  assert.equal(slow.ok, false);
  assert.match((slow as { error: string }).error, /did not finish within 300 ms/);
  const missing = await runMessageCommand('no-such-command-winnow', '', { cwd, timeoutMs: 10_000 });
  assert.equal(missing.ok, false);
  assert.match((missing as { error: string }).error, /exited with 127/);
});
