/**
 * A daemon that stops and starts in a repository a person works in (issue 11, cases 12, 15, 21):
 * the real daemon and real git.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { statusUntil, winnow } from '../helpers/daemon.js';
import { withCitizen, headTree, waitingMatches } from '../helpers/citizen.js';

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

test('case 15: a restart does not reset the rate limit: the daily cap holds across it', { timeout: 90_000 }, () =>
  withCitizen(
    async (c) => {
      const { repo } = c;
      for (const name of ['one.md', 'two.md']) {
        const landed = c.d.commitOf(name);
        await repo.write(name, `${name}\n`);
        await landed;
      }
      const d = await c.restart();
      await d.ready();
      const early = d.commitOf('three.md').then(() => 'committed past the daily cap' as const);
      const waited = d.waitFor(waitingMatches(/rate limited/)).then((l) => String(l.waiting));
      await repo.write('three.md', 'a third change the same day\n');
      assert.match(await Promise.race([early, waited]), /rate limited/, 'the third commit waits for the cap');
      const st = await statusUntil(repo.root, (s) => (s.pending ?? []).some((p: { path: string }) => p.path === 'three.md'), 'three.md pending');
      assert.equal(st.rateLimit.today, 2, `status counts the commits made before the restart: ${JSON.stringify(st.rateLimit)}`);
      assert.ok(!headTree(repo).includes('three.md'));
      assert.deepEqual(st.pending.map((p: { path: string }) => p.path), ['three.md'], 'the change waits, nothing is dropped');
    },
    { config: { rateLimit: { maxPerHour: 1_000, maxPerDay: 2 } } },
  ));

test('case 12: a change accepted before a restart is not committed when the rules after the restart block it', { timeout: 90_000 }, () =>
  withCitizen(
    async (c) => {
      const { repo } = c;
      const accepted = c.d.waitFor((l) => l.msg === 'decision' && l.path === 'draft.scratch' && l.decision === 'ALLOW');
      await repo.write('draft.scratch', 'accepted under the old rules\n');
      await repo.write('keep.md', 'accepted, and still allowed after the restart\n');
      await accepted;
      // A 10 s window: both are pending (pending.json) across the restart.
      const cfg = JSON.parse(await readFile(c.cfg, 'utf8')) as Record<string, unknown>;
      const d = await c.restart(JSON.stringify({ ...cfg, rules: ['BLOCK:*.scratch:scratch files'] }));
      const early = d.commitOf('draft.scratch').then(() => 'committed under the old decision' as const);
      const dropped = d.waitFor((l) => l.msg === 'decision' && l.path === 'draft.scratch' && l.decision === 'BLOCK').then((l) => String(l.rule));
      assert.equal(await Promise.race([early, dropped]), 'BLOCK:*.scratch:scratch files', 'the current rule decides');

      const landed = await d.commitOf("keep.md");
      assert.deepEqual(landed.paths, ['keep.md'], 'the other pending change is committed, alone');
      const st = await statusUntil(repo.root, (s) => !(s.pending ?? []).length, 'nothing pending');
      assert.deepEqual(st.pending, []);
      assert.ok(!headTree(repo).includes('draft.scratch'));
    },
    { config: { debounce: { defaultMs: 10_000, rules: [], maxMs: 10_000, maxWaitMs: 40_000 } } },
  ));
