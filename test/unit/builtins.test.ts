import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUILTIN_RULES,
  builtinDecision,
  fileKindFact,
  gitDirFact,
  gitIgnoredFact,
  invalidUtf8Fact,
  isInGitDir,
  nestedRepoFact,
  type FileKind,
} from '../../src/core/classify/builtins.js';
import { compileRules, parseRules } from '../../src/core/classify/rules.js';

test('.git at any depth is git\'s own; names that merely contain ".git" are not', () => {
  const cases: [string, boolean][] = [
    ['.git', true],
    ['.git/index', true],
    ['.git/refs/heads/main', true],
    ['vendor/lib/.git', true],
    ['vendor/lib/.git/HEAD', true],
    ['.gitignore', false],
    ['.github/workflows/ci.yml', false],
    ['docs/.git-notes.md', false],
    ['x.git', false],
    ['a/b.git/c', false],
  ];
  for (const [path, want] of cases) {
    assert.equal(isInGitDir(path), want, path);
    assert.equal(gitDirFact(path)?.rule ?? null, want ? BUILTIN_RULES.gitDir : null, path);
  }
});

test('the rules answer .git before any rule, even an ALLOW rule for everything', () => {
  const rules = compileRules(parseRules('ALLOW:**:everything\n', 'test.rules'), 'ANALYZE');
  for (const p of ['.git/config', 'sub/repo/.git/HEAD']) {
    const m = rules.match(p);
    assert.equal(m.action, 'BLOCK', p);
    assert.equal(m.rule, BUILTIN_RULES.gitDir, p);
  }
  assert.equal(rules.match('.gitignore').action, 'ALLOW');
});

test('a name with U+FFFD (not valid UTF-8 on disk) is held with a reason that says what to do', () => {
  assert.equal(invalidUtf8Fact('notes.md'), null);
  assert.equal(invalidUtf8Fact('ünïcødé ✓.md'), null);
  const f = invalidUtf8Fact('latin1-\uFFFD.txt');
  assert.equal(f?.rule, BUILTIN_RULES.invalidUtf8Name);
  assert.match(f!.reason, /not valid UTF-8.*rename it, or commit it by hand/);
});

test('nested repositories and ignored paths', () => {
  assert.equal(nestedRepoFact(null), null);
  assert.equal(nestedRepoFact('vendor/lib')?.rule, BUILTIN_RULES.nestedRepo);
  assert.match(nestedRepoFact('vendor/lib')!.reason, /nested git repository vendor\/lib\//);
  assert.equal(gitIgnoredFact(false), null);
  assert.equal(gitIgnoredFact(true)?.rule, BUILTIN_RULES.gitIgnored);
});

test('file kinds: special files, symlinks out of the workspace, directories; files and dangling links pass', () => {
  const cases: [FileKind, string | null][] = [
    [{ kind: 'special' }, BUILTIN_RULES.specialFile],
    [{ kind: 'symlink', target: '/etc/passwd', outside: true }, BUILTIN_RULES.symlinkOutside],
    [{ kind: 'symlink', target: '/w/docs/a.md', outside: false }, null],
    [{ kind: 'symlink', target: null, outside: false }, null],
    [{ kind: 'directory', holdsGit: true }, BUILTIN_RULES.nestedRepo],
    [{ kind: 'directory', holdsGit: false }, BUILTIN_RULES.directory],
    [{ kind: 'file' }, null],
    [{ kind: 'absent' }, null],
  ];
  for (const [k, want] of cases) assert.equal(fileKindFact('p', k)?.rule ?? null, want, JSON.stringify(k));
  assert.match(fileKindFact('link', { kind: 'symlink', target: '/etc/passwd', outside: true })!.reason, /\(\/etc\/passwd\): never followed/);
});

test('builtinDecision: a layer-1 BLOCK carrying the fact, with its cost when measured', () => {
  const f = gitIgnoredFact(true)!;
  assert.deepEqual(builtinDecision('a.log', f), { path: 'a.log', decision: 'BLOCK', layer: 1, rule: f.rule, reason: f.reason });
  assert.deepEqual(builtinDecision('a.log', f, 120).timings, { l1Ns: 120 });
});
