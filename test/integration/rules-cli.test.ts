import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { tempRepo } from '../helpers/repo.js';

function capture(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), cwd, env: {}, isTTY: false };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

test('rules check: workspace config with its rule files, and named files', async (t) => {
  const repo = await tempRepo();
  t.after(() => repo.cleanup());
  let c = capture(repo.root);
  assert.equal(await main(['rules', 'check'], c.io), 0);
  assert.match(c.out(), /^OK \(no \.winnow\.json: defaults\): \d+ rules \(builtin:default: \d+\); defaultAction ANALYZE\n$/);

  await repo.write('.winnow.json', JSON.stringify({ rules: ['BLOCK:*.log:Logs'], ruleFiles: ['builtin:default', 'team.rules'] }));
  await repo.write('team.rules', '# team\nALLOW:notes/**:Notes\nALLOW:x/**\n');
  c = capture(join(repo.root));
  assert.equal(await main(['rules', 'check'], c.io), 0);
  assert.match(c.out(), /\.winnow\.json: 1, builtin:default: \d+, team\.rules: 2\)/);

  await repo.write('team.rules', '# team\nALLOW:notes/**:Notes\nALOW:x/**\n');
  c = capture(repo.root);
  assert.equal(await main(['rules', 'check'], c.io), 2);
  assert.match(c.err(), /^winnow: team\.rules:3: unknown action "ALOW"/);
  assert.doesNotMatch(c.err(), /\n\s+at /, 'no stack trace');

  c = capture(repo.root);
  assert.equal(await main(['rules', 'check', 'team.rules', 'missing.rules', '.winnow.json'], c.io), 2);
  assert.match(c.err(), /team\.rules:3: unknown action/);
  assert.match(c.err(), /missing\.rules: no such file/);
  // The config names the broken team.rules too: reported against that file and line.
  assert.equal(c.err().split('\n').filter(Boolean).length, 3);
});

test('rules suggest: proposes BLOCK rules from quarantined paths in state.json', async (t) => {
  const repo = await tempRepo();
  t.after(() => repo.cleanup());
  let c = capture(repo.root);
  assert.equal(await main(['rules', 'suggest'], c.io), 0);
  assert.match(c.err(), /Nothing to suggest: winnow has not run/);
  assert.equal(c.out(), '');

  const stateDir = join(repo.root, '.git', 'winnow');
  await mkdir(stateDir, { recursive: true });
  const quarantined = [
    { path: '.claude/status/a.json', events: 9, periodMs: 30_000 },
    { path: '.claude/status/b.json', events: 8, periodMs: 30_000 },
    { path: 'monitor.txt', events: 6, periodMs: 10_000 },
    { path: 'logs/x.log', events: 6, periodMs: 10_000 },
  ];
  await writeFile(join(stateDir, 'state.json'), JSON.stringify({ version: 1, quarantined }));
  c = capture(join(repo.root));
  assert.equal(await main(['rules', 'suggest'], c.io), 0);
  const rules = c.out().split('\n').filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(rules, [
    'BLOCK:.claude/status/*.json:2 files churned about every 30 s with no human evidence (quarantined)',
    'BLOCK:/monitor.txt:churned: 6 changes about every 10 s with no human evidence (quarantined)',
  ], 'logs/x.log is already blocked by builtin:default');

  await writeFile(join(stateDir, 'state.json'), JSON.stringify({ version: 1, quarantined: [] }));
  c = capture(repo.root);
  assert.equal(await main(['rules', 'suggest'], c.io), 0);
  assert.match(c.err(), /no path is quarantined/);

  c = capture(repo.root);
  assert.equal(await main(['rules', 'frobnicate'], c.io), 2);
  assert.match(c.err(), /unknown subcommand "frobnicate"/);
});
