#!/usr/bin/env node
// Runs the test tiers with Node's own test runner, TypeScript loaded through tsx.
// --test-force-exit only for the tiers that start real processes (integration, fault, e2e): a
// timed-out test never runs its cleanup, and a child it left alive would keep the run from ending.
// The flag can drop finished tests from the report with exit 0 (a CI run listed 4 of unit/content's
// 82 tests as never run), so unit and component, which start no daemons, run without it.
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

const inProcess = new Set(['unit', 'component']);
const filesOf = (group) => group.flatMap((t) => collect(join('test', t)));
const groups = [
  { files: filesOf(tiers.filter((t) => inProcess.has(t))), force: [] },
  { files: filesOf(tiers.filter((t) => !inProcess.has(t))), force: ['--test-force-exit'] },
];
if (groups.every((g) => g.files.length === 0)) {
  console.error(`no test files found for tiers: ${tiers.join(', ')}`);
  process.exit(1);
}
let status = 0;
for (const { files: groupFiles, force } of groups) {
  if (groupFiles.length === 0) continue;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...force, ...groupFiles], {
    stdio: 'inherit',
    env: { ...process.env, WINNOW_TEST: '1' },
    // Without the flag a leaked handle would hang the run: fail it instead (the group takes ~30 s).
    ...(force.length ? {} : { timeout: 600_000 }),
  });
  if (res.error) console.error(`run-tests: ${res.error.message}`);
  if ((res.status ?? 1) !== 0) status = res.status ?? 1;
}
process.exit(status);
