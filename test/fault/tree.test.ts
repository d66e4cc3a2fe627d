/**
 * Hostile trees: symlinks out of the workspace and symlink loops, FIFOs, devices, nested
 * repositories, a directory moved in, awkward and non-UTF-8 names, huge and still-growing files.
 * Promises: symlinks are never followed out of the workspace; special files and nested repositories
 * are skipped without hanging the daemon; every file a person puts in is committed byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { GIT_ENV } from '../helpers/repo.js';
import { notBuilt, CASE_TIMEOUT_MS, faultWorkspace, fsck, committed, cookie, commitsTouching, historyProblems, headBlobId, tail } from './helpers.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** `git ls-tree -r -z HEAD` as {mode, type, path(raw bytes as latin1 string)}. */
function treeEntries(root: string): { mode: string; path: Buffer }[] {
  const out = execFileSync('git', ['ls-tree', '-r', '-z', '--full-tree', 'HEAD'], { cwd: root, env: GIT_ENV });
  const entries: { mode: string; path: Buffer }[] = [];
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== 0) continue;
    const rec = out.subarray(start, i);
    start = i + 1;
    const tab = rec.indexOf(0x09);
    entries.push({ mode: rec.subarray(0, rec.indexOf(0x20)).toString(), path: Buffer.from(rec.subarray(tab + 1)) });
  }
  return entries;
}

test('symlinks out of the workspace and symlink loops are never followed', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const outside = `${ws.root}-outside`;
  await mkdir(outside, { recursive: true });
  t.after(() => rm(outside, { recursive: true, force: true }));
  await writeFile(join(outside, 'secret.txt'), 'outside content: must never be committed\n');
  await symlink(outside, join(ws.root, 'link-out'));
  await symlink(join(outside, 'secret.txt'), join(ws.root, 'link-file'));
  await symlink('.', join(ws.root, 'loop'));
  await symlink('b', join(ws.root, 'a'));
  await symlink('a', join(ws.root, 'b'));

  const d = ws.start();
  await d.ready();
  await cookie(d, ws);
  // Writes outside, seen through the link, must not become commits either.
  await writeFile(join(outside, 'secret.txt'), 'outside content changed: still never committed\n');
  await writeFile(join(outside, 'new.txt'), 'a new outside file\n');
  await cookie(d, ws);

  const entries = treeEntries(ws.root);
  const paths = entries.map((e) => e.path.toString());
  assert.deepEqual(paths.filter((p) => p.startsWith('link-out/') || p.startsWith('loop/') || p.startsWith('a/') || p.startsWith('b/')), [], 'nothing under a symlinked directory');
  for (const e of entries) {
    if (['link-out', 'link-file', 'loop', 'a', 'b'].includes(e.path.toString())) {
      assert.equal(e.mode, '120000', `${e.path} is committed as a link (its target text), never as the content it points to`);
    }
  }
  const everything = execFileSync('git', ['log', '-p', '--all', '--format='], { cwd: ws.root, env: GIT_ENV }).toString();
  assert.doesNotMatch(everything, /outside content/, 'no outside content in any commit');
  assert.deepEqual(historyProblems(ws), []);
  await d.stop();
});

test('FIFOs, devices and nested repositories are skipped, and do not hang the daemon', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const d = ws.start();
  await d.ready();
  execFileSync('mkfifo', [join(ws.root, 'pipe.fifo')]);
  if (isRoot) execFileSync('mknod', [join(ws.root, 'null.dev'), 'c', '1', '3']);
  else t.diagnostic('not root: the device-node part is skipped (mknod needs root)');
  const nested = join(ws.root, 'nested');
  await mkdir(nested);
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: nested, env: GIT_ENV });
  await writeFile(join(nested, 'inner.md'), 'belongs to the nested repository\n');
  execFileSync('git', ['add', 'inner.md'], { cwd: nested, env: GIT_ENV });
  execFileSync('git', ['commit', '-q', '-m', 'inner'], { cwd: nested, env: GIT_ENV });
  await writeFile(join(nested, 'untracked-inner.md'), 'also the nested repository\'s\n');
  // A person's real change next to them must still be committed: the daemon is not stuck on a FIFO read.
  await ws.write('notes/real.md', 'real change\n');
  await committed(d, ws, { 'notes/real.md': 'real change\n' });
  await cookie(d, ws);
  await ws.write('nested/inner.md', 'changed inside the nested repository\n');
  await cookie(d, ws);

  const paths = treeEntries(ws.root).map((e) => `${e.mode} ${e.path.toString()}`);
  assert.deepEqual(paths.filter((p) => /pipe\.fifo|null\.dev|nested/.test(p)), [], `no FIFO, device, gitlink or nested file in HEAD:\n${paths.join('\n')}`);
  assert.deepEqual(historyProblems(ws), []);
  const exit = await d.stop();
  assert.equal(exit.code, 0, tail(d));
});

test('a directory moved into the tree: every file in it is committed', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const elsewhere = `${ws.root}-elsewhere`;
  await mkdir(join(elsewhere, 'project', 'deep', 'er'), { recursive: true });
  t.after(() => rm(elsewhere, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'moved-in/top.md': 'top\n',
    'moved-in/deep/mid.md': 'mid\n',
    'moved-in/deep/er/bottom.md': 'bottom\n',
  };
  for (const [p, c] of Object.entries(files)) await writeFile(join(elsewhere, 'project', p.slice('moved-in/'.length)), c);
  const d = ws.start();
  await d.ready();
  // One rename: inotify reports the directory only, never the files inside it.
  await rename(join(elsewhere, 'project'), join(ws.root, 'moved-in'));
  await committed(d, ws, files);
  assert.deepEqual(historyProblems(ws), []);
  await d.stop();
});

test('names with spaces, newlines, unicode, a leading dash or pathspec magic are committed exactly', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const names = ['-rf.md', '--help', 'with space.md', 'new\nline.md', 'ünïcödé ✓.md', ':(glob)*.md', '*.md', 'tab\there.md', '"quoted".md'];
  const d = ws.start();
  await d.ready();
  for (const n of names) await ws.write(`odd/${n}`, `content of ${JSON.stringify(n)}\n`);
  await committed(d, ws, Object.fromEntries(names.map((n) => [`odd/${n}`, `content of ${JSON.stringify(n)}\n`])));
  // Exactly those files: a pathspec taken as a glob (`*.md`) or an option (`-rf.md`) would add others or fail.
  const inTree = treeEntries(ws.root).map((e) => e.path.toString()).filter((p) => p.startsWith('odd/')).sort();
  assert.deepEqual(inTree, names.map((n) => `odd/${n}`).sort());
  assert.deepEqual(historyProblems(ws), []);
  await d.stop();
});

test('a file name that is not valid UTF-8 is committed byte for byte, or held and reported — never mangled', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const d = ws.start();
  await d.ready();
  const raw = Buffer.concat([Buffer.from(`${ws.root}/latin1-`), Buffer.from([0xe9, 0xff]), Buffer.from('.txt')]);
  const rel = Buffer.concat([Buffer.from('latin1-'), Buffer.from([0xe9, 0xff]), Buffer.from('.txt')]);
  await writeFile(raw, 'a name from an old latin-1 archive\n');
  await ws.write('notes/after.md', 'a normal change after it\n');
  await committed(d, ws, { 'notes/after.md': 'a normal change after it\n' });
  await cookie(d, ws);

  const entries = treeEntries(ws.root).map((e) => e.path);
  const exact = entries.some((p) => p.equals(rel));
  const mangled = entries.filter((p) => p.includes(Buffer.from([0xef, 0xbf, 0xbd])) || (p.toString('latin1').startsWith('latin1-') && !p.equals(rel)));
  assert.deepEqual(mangled.map((p) => p.toString('latin1')), [], 'no entry under a replacement-character or otherwise altered name');
  if (!exact) {
    const reported = d.lines.some((l) => (l.msg === 'held back' || (l.msg === 'decision' && l.decision === 'BLOCK')) && String(l.path).startsWith('latin1-'));
    assert.ok(reported, `the file was neither committed under its exact name nor reported as held:\n${tail(d)}`);
  }
  assert.deepEqual(historyProblems(ws), []);
  const exit = await d.stop();
  assert.equal(exit.code, 0);
});

test('a huge file is committed whole; a still-growing file ends up committed with its final content', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  const ws = await faultWorkspace(t);
  const d = ws.start();
  await d.ready();

  // 48 MiB of incompressible bytes: no whole-file buffering tricks, no truncation. Above the
  // secret scan's streaming threshold (16 MiB), below commit.maxFileBytes (50 MiB, held above).
  const huge = join(ws.root, 'data', 'huge.bin');
  await mkdir(join(ws.root, 'data'), { recursive: true });
  const chunk = 4 << 20;
  await writeFile(huge, Buffer.alloc(0));
  for (let i = 0; i < 12; i++) await appendFile(huge, createHash('sha512').update(String(i)).digest().toString('hex').repeat(chunk / 128));
  const hugeId = execFileSync('git', ['hash-object', huge], { cwd: ws.root, env: GIT_ENV }).toString().trim();

  // A writer that keeps appending for longer than the settle window (pacing, not an assertion).
  const growing = 'data/growing.txt';
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    const line = `line ${i} ${'x'.repeat(2000)}\n`;
    lines.push(line);
    await appendFile(join(ws.root, growing), line);
    await new Promise((r) => setTimeout(r, 25));
  }
  const final = lines.join('');
  await committed(d, ws, { [growing]: final });
  for (;;) {
    if (headBlobId(ws, 'data/huge.bin') === hugeId) break;
    await d.next((l) => l.msg === 'commit');
  }
  // Every committed version of the growing file is a prefix of what was written: no torn or mixed content.
  for (const c of commitsTouching(ws, growing)) {
    const body = ws.git('show', `${c.sha}:${growing}`);
    assert.ok(final.startsWith(body), `commit ${c.sha} holds a version of ${growing} that was never written`);
  }
  assert.deepEqual(historyProblems(ws), []);
  const f = await fsck(ws.root);
  assert.ok(f.ok, f.output);
  await d.stop();
});
