/**
 * A daemon that stops and starts in a repository a person works in (issue 11, cases 12, 15, 21):
 * the real daemon and real git.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { winnow } from '../helpers/daemon.js';
import { withCitizen } from '../helpers/citizen.js';

test('case 21: status never says "commits in …" while paused', { timeout: 60_000 }, () =>
  withCitizen(
    async (c) => {
      const { repo } = c;
      const p = await winnow(['pause', repo.root, '--reason', 'reviewing'], repo.root);
      assert.equal(p.code, 0, p.stderr);
      const accepted = c.d.waitFor((l) => l.msg === 'decision' && l.path === 'draft.md' && l.decision === 'ALLOW');
      await repo.write('draft.md', 'written while paused\n');
      await accepted;
      // A 30 s settle window: the path is pending, its window still open.
      const r = await winnow(['status', repo.root], repo.root);
      assert.equal(r.code, 0, r.stderr);
      const line = r.stdout.split('\n').find((l) => l.includes('draft.md'));
      assert.ok(line, `draft.md is listed as pending:\n${r.stdout}`);
      assert.doesNotMatch(line, /commits (in|.* ago)/, `no commit time is promised while paused:\n${r.stdout}`);
      assert.match(line, /waits \(paused until/, `the line says it waits for the pause:\n${r.stdout}`);
    },
    { config: { debounce: { defaultMs: 30_000, rules: [], maxMs: 30_000, maxWaitMs: 60_000 } } },
  ));
