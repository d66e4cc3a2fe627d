/**
 * Names and places git will not take (issue 11, cases 16, 17, and a nested repository made a
 * moment ago): the real daemon and real git. Each is held, never committed, and `status` lists it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GIT_ENV } from '../helpers/repo.js';
import { statusUntil, winnow } from '../helpers/daemon.js';
import { withCitizen, barrier, headTree } from '../helpers/citizen.js';

type Held = { path: string; reason: string };
const heldOf = (s: Record<string, any>): Held[] => (s.held ?? []) as Held[];

test('a nested repository made a moment ago (git init in a subdirectory): none of its files is committed into the workspace', { timeout: 60_000 }, () =>
  withCitizen(async (c) => {
    const { repo } = c;
    // sub/ is looked at (no .git yet) and a file in it is accepted: both answers are now stale.
    const accepted = c.d.waitFor((l) => l.msg === 'decision' && l.path === 'sub/early.md' && l.decision === 'ALLOW');
    await repo.write('sub/early.md', 'written before the git init\n');
    await accepted;
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: join(repo.root, 'sub'), env: GIT_ENV });
    const judged = c.d.waitFor((l) => l.msg === 'decision' && l.path === 'sub/late.md');
    await repo.write('sub/late.md', 'written right after the git init\n');
    await judged;
    await barrier(c);
    const inSub = headTree(repo).filter((p) => p.startsWith('sub/') || p === 'sub');
    assert.deepEqual(inSub, [], 'nothing of the nested repository is in the workspace\'s HEAD');
    const st = await statusUntil(repo.root, (s) => ['sub/early.md', 'sub/late.md'].every((p) => heldOf(s).some((h) => h.path === p)), 'both files held');
    for (const p of ['sub/early.md', 'sub/late.md']) assert.match(heldOf(st).find((h) => h.path === p)!.reason, /nested git repository sub\//);
  }));

test('case 17: .GIT and .Git names, which git refuses, are held and reported, never silently dropped', { timeout: 60_000 }, () =>
  withCitizen(async (c) => {
    const { repo } = c;
    await repo.write('.GIT/config', 'not a git directory, only named like one\n');
    await repo.write('docs/.Git/notes.md', 'a note under a .Git folder\n');
    await barrier(c);
    assert.deepEqual(headTree(repo).filter((p) => /\.git\//i.test(p)), []);
    const st = await statusUntil(repo.root, (s) => ['.GIT/config', 'docs/.Git/notes.md'].every((p) => heldOf(s).some((h) => h.path === p)), 'both held');
    for (const p of ['.GIT/config', 'docs/.Git/notes.md']) assert.match(heldOf(st).find((h) => h.path === p)!.reason, /git refuses/);
    const human = await winnow(['status', repo.root], repo.root);
    assert.match(human.stdout, /held {7}\.GIT\/config: git refuses/);
    assert.ok(!c.d.lines.some((l) => l.msg === 'commit failed; breaker open'), 'no failed commit, no open breaker');
  }));

test('case 16: a held file whose name is not valid UTF-8 is listed in status under its real name, quoted as git quotes it', { timeout: 60_000 }, () =>
  withCitizen(async (c) => {
    const { repo } = c;
    const raw = Buffer.concat([Buffer.from(`${repo.root}/latin1-`), Buffer.from([0xe9, 0xff]), Buffer.from('.txt')]);
    await writeFile(raw, 'a name from an old latin-1 archive\n');
    await barrier(c);
    // The way `git status` prints it.
    const quoted = repo.git('-c', 'core.quotePath=true', 'status', '--porcelain=v1', '--untracked-files=all').split('\n').find((l) => l.includes('latin1-'))!.slice(3);
    assert.equal(quoted, '"latin1-\\351\\377.txt"');
    const st = await statusUntil(repo.root, (s) => heldOf(s).some((h) => h.path === quoted), `${quoted} held`);
    assert.match(heldOf(st).find((h) => h.path === quoted)!.reason, /not valid UTF-8/);
    const human = await winnow(['status', repo.root], repo.root);
    assert.ok(human.stdout.includes(`held       ${quoted}: `), human.stdout);
  }));

test("case 18: the private index's sharedindex.* lives in the state dir, mode 0600, never in the repository's git dir", { timeout: 60_000 }, () =>
  withCitizen(async (c) => {
    const { repo } = c;
    for (const name of ['a.md', 'b.md', 'c.md']) {
      const landed = c.d.commitOf(name);
      await repo.write(name, `${name}\n`);
      await landed;
    }
    // Steady commits build their trees without the private index (direct-tree.ts); a batch that
    // needs it (an executable bit taken away: core.fileMode false would keep it there) writes it.
    const script = join(repo.root, 'run.sh');
    let landed = c.d.commitOf('run.sh');
    await writeFile(script, '#!/bin/sh\n', { mode: 0o755 });
    await landed;
    assert.equal(repo.git('ls-tree', 'HEAD', 'run.sh').split(' ')[0], '100755');
    landed = c.d.next((l) => l.msg === 'commit' && Array.isArray(l.paths) && (l.paths as string[]).includes('run.sh'));
    // Written anew, so the mode and the bytes change in one event.
    await rm(script);
    await writeFile(script, '#!/bin/sh\necho\n', { mode: 0o644 });
    await landed;
    assert.equal(repo.git('ls-tree', 'HEAD', 'run.sh').split(' ')[0], '100644');
    const gitDir = join(repo.root, '.git');
    assert.deepEqual((await readdir(gitDir)).filter((n) => n.startsWith('sharedindex.')), [], 'nothing of winnow\'s index in .git/');
    const state = join(gitDir, 'winnow');
    const shared = (await readdir(state, { recursive: true })).filter((n) => String(n).split('/').pop()!.startsWith('sharedindex.'));
    assert.ok(shared.length >= 1, 'the split index keeps its shared half in the state dir');
    for (const n of shared) assert.equal((await stat(join(state, String(n)))).mode & 0o777, 0o600, `${n} is private`);
    assert.equal(repo.git('show', 'HEAD:c.md'), 'c.md\n');
  }));
