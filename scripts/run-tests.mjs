#!/usr/bin/env node
// Runs the test tiers with Node's own test runner, TypeScript loaded through tsx.
// --test-force-exit: a timed-out test never runs its cleanup, and a child process it left alive
// would otherwise keep its file, and so the whole run, from ending.
// Usage: node scripts/run-tests.mjs [tier...]   (tiers: unit component integration fault e2e)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const all = ['unit', 'component', 'integration', 'fault', 'e2e'];
const tiers = process.argv.slice(2).length ? process.argv.slice(2) : all;

function collect(dir) {
  let out = [];
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(collect(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = tiers.flatMap((t) => collect(join('test', t)));
if (files.length === 0) {
  console.error(`no test files found for tiers: ${tiers.join(', ')}`);
  process.exit(1);
}
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', ...files], {
  stdio: 'inherit',
  env: { ...process.env, WINNOW_TEST: '1' },
});
process.exit(res.status ?? 1);
