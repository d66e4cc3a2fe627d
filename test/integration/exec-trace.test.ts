/**
 * The producers of rungs 2 and 3 on their own, as an ordinary user: `winnow exec` runs its command
 * under strace and files every write its tree makes in the workspace — through short-lived
 * children too — and `winnow hook` files an agent's declared paths. The daemon reads both
 * (test/integration/evidence-ladder.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { testUser, userRepo, type TestUser } from '../helpers/user.js';
import { winnow } from '../helpers/daemon.js';

const u = testUser();
const skip = 'skip' in u ? u.skip : !existsSync('/usr/bin/strace') ? 'strace is not installed' : false;

test('winnow exec files the writes of its whole tree, short-lived children included', { skip, timeout: 60_000 }, async (t) => {
  const user = u as TestUser;
  const repo = await userRepo(user);
  t.after(() => repo.cleanup());
  const script = [
    'printf a > top.txt',
    'sh -c "printf b > child.txt"',
    "printf '%s\\0' xargs.txt | xargs -0 -I{} sh -c 'printf c > {}'",
    "find . -maxdepth 0 -exec sh -c 'mkdir -p d && printf d > d/found.txt' ';'",
    'mv top.txt moved.txt',
    'rm child.txt',
    'cat README.md > /dev/null',
  ].join('; ');
  // From `/`: the command's paths are relative to the workspace only through `cd`.
  const r = await winnow(['exec', '--dir', repo.root, '--', 'sh', '-c', `cd "${repo.root}" && ${script}`], '/', { WINNOW_EXEC_TRACE: '1' }, { as: user });
  assert.equal(r.code, 0, r.stderr);
  const dir = join(repo.root, '.git', 'winnow', 'trace');
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  assert.equal(files.length, 1, `one trace file: ${files.join(', ')}`);
  const recs = readFileSync(join(dir, files[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pid: number; call: string; paths: string[] });
  const touched = new Set(recs.flatMap((x) => x.paths.map((p) => p.slice(repo.root.length + 1))));
  for (const p of ['top.txt', 'child.txt', 'xargs.txt', 'd', 'd/found.txt', 'moved.txt']) assert.ok(touched.has(p), `${p} traced: ${[...touched].join(', ')}`);
  assert.ok(!touched.has('README.md'), 'a read is not a write');
  assert.ok(recs.some((x) => x.call.startsWith('unlink') && x.paths.some((p) => p.endsWith('/child.txt'))), 'the removal is traced');
  assert.ok(new Set(recs.map((x) => x.pid)).size >= 4, 'several processes of the tree');
  // The registration is gone with the command; the exit code is the command's.
  assert.deepEqual(readdirSync(join(repo.root, '.git', 'winnow', 'exec')), []);
  assert.equal((await winnow(['exec', '--dir', repo.root, '--', 'sh', '-c', 'exit 7'], '/', { WINNOW_EXEC_TRACE: '1' }, { as: user })).code, 7);
});

test('winnow hook files declared paths from a Claude Code hook and from plain lines; never exits 2', { skip: 'skip' in u ? u.skip : false, timeout: 60_000 }, async (t) => {
  const user = u as TestUser;
  const repo = await userRepo(user);
  t.after(() => repo.cleanup());
  const json = JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Write', cwd: repo.root, tool_input: { file_path: join(repo.root, 'docs/a.md'), content: 'x' } });
  user.run(process.execPath, [join(process.cwd(), 'bin', 'winnow.js'), 'hook'], { cwd: '/', input: json });
  user.run(process.execPath, [join(process.cwd(), 'bin', 'winnow.js'), 'hook', '--dir', repo.root], { cwd: repo.root, input: 'notes/b.md\n/etc/passwd\n' });
  const recs = readFileSync(join(repo.root, '.git', 'winnow', 'trace', 'declared.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { call: string; source: string; paths: string[] });
  assert.deepEqual(recs.map((x) => x.paths), [[join(repo.root, 'docs/a.md')], [join(repo.root, 'notes/b.md')]]);
  assert.equal(recs[0]!.source, 'winnow hook (PreToolUse Write)');
  assert.ok(recs.every((x) => x.call === 'declared'));
  // Bad input: exit 1 (a non-blocking hook error for Claude Code), never 2.
  let code = 0;
  try {
    user.run(process.execPath, [join(process.cwd(), 'bin', 'winnow.js'), 'hook', '--dir', repo.root], { cwd: repo.root, input: '{"broken' });
  } catch (e) {
    code = (e as { status: number }).status;
  }
  assert.equal(code, 1);
});
