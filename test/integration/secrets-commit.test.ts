/**
 * What must never be committed (issue 11, cases 8–11): the real daemon and real git.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { statusUntil } from '../helpers/daemon.js';
import { withCitizen, barrier, headTree } from '../helpers/citizen.js';

// Split so that no scanner flags this file itself.
const KEY = ['-----BEGIN RSA ', 'PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA ', 'PRIVATE KEY-----\n'].join('');

const heldPaths = (s: Record<string, any>) => (s.held ?? []).map((h: { path: string }) => h.path) as string[];

test('case 8: a secret written between the scan and the commit is never committed (the scanned bytes are)', { timeout: 60_000 }, () =>
  withCitizen(
    async (c) => {
      const { repo } = c;
      const stopped = c.d.next((l) => l.msg === 'fault' && l.step === 'after-scan');
      await repo.write('notes.md', 'harmless\n');
      const f = await stopped;
      // The daemon is frozen after the scan and before the commit: the file changes now.
      await writeFile(join(repo.root, 'notes.md'), `pasted by mistake\n${KEY}`);
      const committed = c.d.commitOf('notes.md');
      process.kill(Number(f.pid), 'SIGCONT');
      const l = await committed;
      const content = repo.git('show', `${String(l.sha)}:notes.md`);
      assert.doesNotMatch(content, /PRIVATE KEY/, 'the key never reaches a commit');
      assert.equal(content, 'harmless\n', 'exactly the bytes that were scanned');
      await barrier(c);
      assert.doesNotMatch(repo.git('log', '-p'), /PRIVATE KEY/);
      const st = await statusUntil(repo.root, (s) => heldPaths(s).includes('notes.md'), 'notes.md held as a secret');
      assert.match(st.held.find((h: { path: string }) => h.path === 'notes.md').reason, /secret/);
    },
    { env: { WINNOW_FAULT: 'stop:after-scan' } },
  ));

test('case 9: a key in a 17 MiB file, after the first MiB, or in a file starting with NUL is held', { timeout: 120_000 }, () =>
  withCitizen(async (c) => {
    const { repo } = c;
    const big = await open(join(repo.root, 'dump.sql'), 'w');
    const mib = Buffer.alloc(1 << 20, 'x');
    for (let i = 0; i < 17; i++) await big.write(mib);
    await big.write(Buffer.from(`\n${KEY}`));
    await big.close();
    await repo.write('later.txt', Buffer.concat([Buffer.alloc((1 << 20) + 10, 'y'), Buffer.from(`\n${KEY}`)]));
    await repo.write('blob.bin', Buffer.concat([Buffer.from([0, 1, 2, 3]), Buffer.from(KEY)]));
    await barrier(c);
    const tree = headTree(repo);
    for (const p of ['dump.sql', 'later.txt', 'blob.bin']) assert.ok(!tree.includes(p), `${p} not committed`);
    const st = await statusUntil(repo.root, (s) => ['dump.sql', 'later.txt', 'blob.bin'].every((p) => heldPaths(s).includes(p)), 'all three held');
    for (const h of st.held) assert.match(h.reason, /secret/);
  }));

test('case 10: ignored files whose names start with pathspec magic are never committed', { timeout: 60_000 }, () =>
  withCitizen(
    async (c) => {
      const { repo } = c;
      for (const n of [':(glob)x.private', ':!y.private', ':/z.private', 'plain.private']) await repo.write(n, 'ignored\n');
      await barrier(c);
      const tree = headTree(repo);
      for (const n of [':(glob)x.private', ':!y.private', ':/z.private', 'plain.private']) assert.ok(!tree.includes(n), `${n} not committed: ${tree}`);
    },
    {
      setup: async (repo) => {
        await repo.write('.gitignore', '*.private\n');
        repo.git('add', '.gitignore');
        repo.git('commit', '-q', '-m', 'ignore');
      },
    },
  ));

test('case 11: a file replaced by a symlink out of the tree after it settled is not committed as that link', { timeout: 60_000 }, () =>
  withCitizen(
    async (c) => {
      const { repo } = c;
      const stopped = c.d.next((l) => l.msg === 'fault' && l.step === 'batch-taken');
      await repo.write('data.md', 'a note\n');
      const f = await stopped;
      // The batch is taken; the daemon is frozen before it looks at the file. It changes now.
      await rm(join(repo.root, 'data.md'));
      await symlink('/etc/passwd', join(repo.root, 'data.md'));
      process.kill(Number(f.pid), 'SIGCONT');
      await barrier(c);
      const entry = repo.git('ls-tree', 'HEAD', '--', 'data.md');
      assert.equal(entry, '', `never committed as a link out of the tree: ${entry}`);
      const st = await statusUntil(repo.root, (s) => heldPaths(s).includes('data.md'), 'data.md held');
      assert.match(st.held.find((h: { path: string }) => h.path === 'data.md').reason, /outside the workspace/);
    },
    { env: { WINNOW_FAULT: 'stop:batch-taken' } },
  ));
