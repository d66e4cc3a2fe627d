/**
 * The person's own git work comes first (issue 11, cases 1–7; SPEC "Coordination"): the real
 * daemon, real git, the person's git commands run as a person would run them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GIT_ENV } from '../helpers/repo.js';
import { status, statusUntil } from '../helpers/daemon.js';
import { withCitizen, barrier, headTree, porcelain, waitingMatches } from '../helpers/citizen.js';

test("case 3: the person's git commit with its editor open is not broken by winnow moving HEAD", { timeout: 90_000 }, () =>
  withCitizen(async (c) => {
    const { repo } = c;
    const fifo = `${repo.root}.editor-fifo`;
    const editor = `${repo.root}.editor.sh`;
    execFileSync('mkfifo', [fifo]);
    await writeFile(editor, `#!/bin/sh\nprintf 'my own commit\\n' > "$1"\necho EDITOR-OPEN\nread x < "${fifo}"\n`);
    await chmod(editor, 0o755);
    const person = spawn('git', ['commit', '--allow-empty'], {
      cwd: repo.root,
      env: { ...GIT_ENV, GIT_EDITOR: editor },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    person.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => person.once('exit', (code) => r(code)));
    await new Promise<void>((resolve) => {
      let out = '';
      person.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('EDITOR-OPEN')) resolve();
      });
    });
    // The editor is open (no index.lock is held now). A change of the person's settles meanwhile.
    const early = c.d.commitOf('other.md').then(() => 'winnow moved HEAD while the command ran' as const);
    const waited = c.d.next(waitingMatches(/git commit/)).then((l) => String(l.waiting));
    await repo.write('other.md', 'written while the commit message is being edited\n');
    const first = await Promise.race([early, waited]);
    assert.match(first, /git commit/, 'winnow waits for the git command');
    const st = await status(repo.root);
    assert.match(String(st.waiting), /git commit/, 'status says why');
    await writeFile(fifo, 'done\n');
    assert.equal(await exited, 0, `the person's git commit succeeds: ${stderr}`);
    assert.ok(repo.git('log', '--format=%s').split('\n').includes('my own commit'), "the person's commit is in the history");
    await c.d.commitOf('other.md');
    assert.equal(repo.git('show', 'HEAD:other.md'), 'written while the commit message is being edited\n');
    assert.deepEqual(porcelain(repo), []);
  }));

test('case 4: git add -N, then winnow commits the file: no empty intent-to-add entry is left to delete it', { timeout: 60_000 }, () =>
  withCitizen(async (c) => {
    const { repo } = c;
    const landed = c.d.commitOf('planned.md');
    await repo.write('planned.md', 'a file the person announced with add -N\n');
    repo.git('add', '-N', 'planned.md');
    await landed;
    assert.equal(repo.git('show', 'HEAD:planned.md'), 'a file the person announced with add -N\n');
    assert.deepEqual(porcelain(repo), [], 'git status is clean (no "DA")');
    // The person's next commit must not delete it.
    repo.git('commit', '-q', '--allow-empty', '-am', 'the person commits');
    assert.ok(headTree(repo).includes('planned.md'), "the person's commit kept the file");
    assert.deepEqual(porcelain(repo), []);
  }));

test('case 5: a new file staged by hand inside the settle window is left to the person and listed', { timeout: 60_000 }, () =>
  withCitizen(async (c) => {
    const { repo } = c;
    await repo.write('staged.md', 'the person stages this for their own commit\n');
    repo.git('add', 'staged.md');
    await barrier(c);
    assert.ok(!headTree(repo).includes('staged.md'), 'winnow did not commit a file the person staged');
    assert.ok(porcelain(repo).includes('A  staged.md'), "it is still staged, as the person left it");
    const st = await statusUntil(repo.root, (s) => (s.held ?? []).some((h: { path: string }) => h.path === 'staged.md'), 'staged.md held');
    assert.match(st.held.find((h: { path: string }) => h.path === 'staged.md').reason, /staged by hand/);
    repo.git('commit', '-q', '-m', 'my commit');
    assert.equal(repo.git('log', '-1', '--format=%s').trim(), 'my commit');
    assert.equal(repo.git('show', 'HEAD:staged.md'), 'the person stages this for their own commit\n');
  }));

test('case 5: git submodule add: .gitmodules is never committed without its gitlink', { timeout: 60_000 }, () =>
  withCitizen(async (c) => {
    const { repo } = c;
    const sub = `${repo.root}-sub`;
    execFileSync('git', ['init', '-q', '-b', 'main', sub], { env: GIT_ENV });
    execFileSync('git', ['commit', '-q', '--allow-empty', '-m', 'sub'], { cwd: sub, env: GIT_ENV });
    try {
      repo.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', sub, 'lib');
      await barrier(c);
      const tree = headTree(repo);
      assert.ok(!tree.includes('.gitmodules'), `.gitmodules is not committed alone: ${tree}`);
      assert.ok(porcelain(repo).includes('A  .gitmodules') && porcelain(repo).includes('A  lib'), 'both stay staged');
      repo.git('commit', '-q', '-m', 'add submodule');
      assert.ok(headTree(repo).includes('.gitmodules') && headTree(repo).includes('lib'));
    } finally {
      execFileSync('rm', ['-rf', sub]);
    }
  }));

test("case 6: partial staging (v2 staged, v3 on disk): the person's next commit never reverts", { timeout: 60_000 }, () =>
  withCitizen(async (c) => {
    const { repo } = c;
    await repo.write('notes.md', 'v1\n');
    const v1 = c.d.commitOf('notes.md');
    await v1;
    await repo.write('notes.md', 'v2\n');
    repo.git('add', 'notes.md');
    await repo.write('notes.md', 'v3\n');
    await barrier(c);
    assert.equal(repo.git('show', 'HEAD:notes.md'), 'v1\n', 'winnow left the staged path to the person');
    assert.equal(repo.git('show', ':notes.md'), 'v2\n', 'the staged version is untouched');
    const st = await status(repo.root);
    assert.ok((st.held ?? []).some((h: { path: string; reason: string }) => h.path === 'notes.md' && /staged by hand/.test(h.reason)));
    // The person commits what they staged; winnow then commits the rest of the edit.
    const v3 = c.d.next((l) => l.msg === 'commit' && (l.paths as string[]).includes('notes.md'));
    repo.git('commit', '-q', '-m', 'v2 by hand');
    await v3;
    assert.equal(repo.git('show', 'HEAD~1:notes.md'), 'v2\n');
    assert.equal(repo.git('show', 'HEAD:notes.md'), 'v3\n');
    assert.deepEqual(porcelain(repo), []);
  }));

test('case 1: git sparse-checkout set DIR (and assume-unchanged): no deletion is committed', { timeout: 60_000 }, () =>
  withCitizen(
    async (c) => {
      const { repo } = c;
      repo.git('update-index', '--assume-unchanged', 'keep/one.md');
      repo.git('sparse-checkout', 'set', 'keep');
      await rename(join(repo.root, 'keep/one.md'), `${repo.root}.one.md`);
      await barrier(c);
      const tree = headTree(repo);
      for (const p of ['away/a.md', 'away/b.md', 'away/c.md', 'keep/one.md']) assert.ok(tree.includes(p), `${p} still in HEAD: ${tree}`);
      repo.git('update-index', '--no-assume-unchanged', 'keep/one.md');
      await rename(`${repo.root}.one.md`, join(repo.root, 'keep/one.md'));
      repo.git('sparse-checkout', 'disable');
    },
    {
      setup: async (repo) => {
        for (const p of ['away/a.md', 'away/b.md', 'away/c.md', 'keep/one.md', 'keep/two.md']) await repo.write(p, `${p}\n`);
        // Enough other files that the mass-deletion guard would not hold these deletions back.
        for (let i = 0; i < 12; i++) await repo.write(`keep/more-${i}.md`, `${i}\n`);
        repo.git('add', '.');
        repo.git('commit', '-q', '-m', 'two folders');
      },
    },
  ));

test('case 2: a conflict without MERGE_HEAD (git stash pop): nothing with markers is committed; status says why', { timeout: 60_000 }, () =>
  withCitizen(
    async (c) => {
      const { repo } = c;
      const early = c.d.commitOf('f.md').then(() => 'committed the conflicted file' as const);
      const waited = c.d.next(waitingMatches(/unmerged/)).then((l) => String(l.waiting));
      try {
        repo.git('stash', 'pop');
      } catch {
        // Exit 1: the conflict is the point.
      }
      assert.match(await readFile(join(repo.root, 'f.md'), 'utf8'), /<<<<<<</);
      assert.match(await Promise.race([early, waited]), /unmerged/);
      assert.match(String((await status(repo.root)).waiting), /unmerged/);
      await repo.write('f.md', 'resolved\n');
      repo.git('add', 'f.md');
      repo.git('stash', 'drop', '-q');
      repo.git('commit', '-q', '-m', 'resolved by hand');
      await barrier(c);
      const all = repo.git('log', '-p', '--format=%H');
      assert.doesNotMatch(all, /<<<<<<</, 'no commit ever held conflict markers');
    },
    {
      setup: async (repo) => {
        await repo.write('f.md', 'v1\n');
        repo.git('add', 'f.md');
        repo.git('commit', '-q', '-m', 'f');
        await repo.write('f.md', 'stashed change\n');
        repo.git('stash', '-q');
        await repo.write('f.md', 'committed change\n');
        repo.git('commit', '-q', '-am', 'other change');
      },
    },
  ));

test('case 7: a directory rename lands in one commit', { timeout: 60_000 }, () =>
  withCitizen(
    async (c) => {
      const { repo } = c;
      const landed = c.d.commitOf('new/a.md');
      await rename(join(repo.root, 'old'), join(repo.root, 'new'));
      const l = await landed;
      const paths = l.paths as string[];
      for (const p of ['old/a.md', 'old/b.md', 'new/a.md', 'new/b.md']) assert.ok(paths.includes(p), `${p} in the same commit: ${paths}`);
      await barrier(c);
      assert.deepEqual(porcelain(repo), []);
    },
    {
      // As with the 30 s default: the deletions are still settling when the moved files (old
      // mtimes, so due at once) are found by the rescan a directory event triggers.
      config: { debounce: { defaultMs: 4_000, rules: [], maxMs: 8_000, maxWaitMs: 20_000 } },
      setup: async (repo) => {
        await mkdir(join(repo.root, 'old'));
        for (const p of ['old/a.md', 'old/b.md']) await repo.write(p, `${p}\n`);
        for (let i = 0; i < 6; i++) await repo.write(`other-${i}.md`, `${i}\n`);
        repo.git('add', '.');
        repo.git('commit', '-q', '-m', 'a folder');
      },
    },
  ));
