import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evidenceSetup } from '../../src/bench/runner.js';

test('bench --evidence: each rung sets the daemon and the agents up for it', () => {
  assert.deepEqual(evidenceSetup('fanotify').autonomous, { fanotify: 'on', trace: 'off' });
  assert.deepEqual(evidenceSetup('trace').autonomous, { fanotify: 'off', trace: 'on' });
  // exec: agents under `winnow exec`, traced even as root (the bench's config is not the
  // workspace's, so `winnow exec` cannot read "trace": "on" from it), attaching refused.
  const exec = evidenceSetup('exec');
  assert.equal(exec.underExec, true);
  assert.equal(exec.env.WINNOW_EXEC_TRACE, '1');
  assert.equal(exec.env.WINNOW_PTRACE_ATTACH, '0');
  assert.equal(evidenceSetup('heuristic').env.WINNOW_EXEC_TRACE, '0');
});
