// The README's install: `npm install -g CHECKOUT` gives a `winnow` command that works from any
// directory, under a package name that is not the unrelated registry package `winnow`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempRepo } from '../helpers/repo.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('the package name is not the unrelated registry package, and the command is winnow', async () => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
  assert.notEqual(pkg.name, 'winnow', '`winnow` on the npm registry is an unrelated GeoJSON package');
  assert.deepEqual(Object.keys(pkg.bin), ['winnow']);
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { name: string; packages: Record<string, { name?: string }> };
  assert.equal(lock.name, pkg.name);
  assert.equal(lock.packages['']?.name, pkg.name);
});

test('npm install -g of the checkout gives a winnow command that works from any directory', { timeout: 180_000 }, async (t) => {
  const npm = await run('npm', ['--version'], tmpdir());
  if (npm.code !== 0) {
    t.skip('npm is not on PATH');
    return;
  }
  const base = await realpath(tmpdir());
  const prefix = await mkdtemp(join(base, 'winnow-prefix-'));
  const elsewhere = await mkdtemp(join(base, 'winnow-cwd-'));
  const repo = await tempRepo();
  try {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
    // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet; the build is
    // the test command's first step already. A local folder installs as a link: no network.
    const inst = await run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--offline', '--no-audit', '--no-fund', ROOT],
      elsewhere,
    );
    assert.equal(inst.code, 0, inst.stderr);
    await lstat(join(prefix, 'lib', 'node_modules', pkg.name)); // installed under its own name
    const bin = join(prefix, 'bin', 'winnow');
    const v = await run(bin, ['--version'], elsewhere);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), pkg.version);
    // A real command on a workspace, run from a directory that is neither the checkout nor it.
    const s = await run(bin, ['status', repo.root, '--json'], elsewhere);
    assert.equal(s.code, 0, s.stderr);
    assert.equal((JSON.parse(s.stdout) as { running: boolean }).running, false);
  } finally {
    await rm(prefix, { recursive: true, force: true });
    await rm(elsewhere, { recursive: true, force: true });
    await repo.cleanup();
  }
});
