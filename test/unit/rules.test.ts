import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  compileRules,
  formatRule,
  parseRules,
  suggestRules,
  validateGlob,
  type Rule,
} from '../../src/core/classify/rules.js';
import { ConfigError } from '../../src/core/config/schema.js';
import type { RuleAction } from '../../src/core/decision.js';

const set = (lines: string[], def: RuleAction = 'ANALYZE') => compileRules(parseRules(lines.join('\n'), 'x.rules'), def);

test('parseRules: fields, comments, blank lines, description with colons', () => {
  const rules = parseRules(
    ['# comment', '', '  BLOCK:*.log:Logs', 'ALLOW:docs/**:User docs: the manual', '   # indented comment', 'ANALYZE:.claude/**', '\r'].join('\r\n'),
    'rules/x.rules',
  );
  assert.deepEqual(
    rules.map((r) => [r.action, r.glob, r.description, r.text, r.source, r.line]),
    [
      ['BLOCK', '*.log', 'Logs', 'BLOCK:*.log:Logs', 'rules/x.rules', 3],
      ['ALLOW', 'docs/**', 'User docs: the manual', 'ALLOW:docs/**:User docs: the manual', 'rules/x.rules', 4],
      ['ANALYZE', '.claude/**', '', 'ANALYZE:.claude/**', 'rules/x.rules', 6],
    ],
  );
});

test('parseRules: errors name the file and the line', () => {
  const cases: [string, number, RegExp][] = [
    ['BLOCK', 1, /expected ACTION:GLOB/],
    ['# c\nDENY:*.log', 2, /unknown action "DENY"/],
    ['block:*.log', 1, /unknown action "block"/],
    ['\n\nBLOCK::Logs', 3, /empty glob/],
    ['ALLOW:src/{a,b:x', 1, /without a matching "}"/],
    ['ALLOW:src/[ab', 1, /without a matching "]"/],
    ['ALLOW:src/a}', 1, /"}" without a matching "{"/],
    ['ALLOW:@(a|b', 1, /"\(" without a matching "\)"/],
    ['ALLOW:../x', 1, /"\.\." segment/],
    ['ALLOW:a//b', 1, /empty segment/],
    ['ALLOW:[z-a]', 1, /never match/],
    ['ALLOW:/', 1, /names no path/],
    ['ALLOW:a\\', 1, /lone "\\"/],
  ];
  for (const [text, line, re] of cases) {
    assert.throws(
      () => parseRules(text, 'rules/bad.rules'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, text);
        assert.equal(e.file, 'rules/bad.rules', text);
        assert.equal(e.line, line, text);
        assert.equal(e.key, null, text);
        assert.match(e.message, re, text);
        assert.ok(e.message.startsWith(`rules/bad.rules:${line}: `), e.message);
        return true;
      },
    );
  }
});

test('validateGlob accepts ordinary globs', () => {
  for (const g of ['*.log', 'node_modules/', '/TODO.md', 'docs/**/*.md', '*.{sh,py}', '[]]x', '[!]]x', 'a\\[b', '@(a|b)', '**', '!*.md']) {
    assert.equal(validateGlob(g), null, g);
  }
});

test('formatRule', () => {
  assert.equal(formatRule({ action: 'BLOCK', glob: '*.log', description: '' }), 'BLOCK:*.log');
  assert.equal(formatRule({ action: 'ALLOW', glob: 'a/**', description: 'x: y' }), 'ALLOW:a/**:x: y');
});

test('match: glob semantics', () => {
  const rs = set([
    'BLOCK:*.log:Logs',
    'BLOCK:node_modules/:deps',
    'BLOCK:build/out/:anchored dir',
    'ALLOW:/TODO.md:root todo',
    'ALLOW:docs/**/*.md:docs',
    'BLOCK:*~:backups',
    'BLOCK:.#*:emacs lock',
    'BLOCK:#*#:emacs autosave',
    'BLOCK:*.{swp,swo}:vim',
    'ALLOW:projects/**:projects',
    'BLOCK:**/secret.txt:deep literal',
    'BLOCK:cache*/:cache dirs',
    'ALLOW:src/*/index.ts:one level',
    'BLOCK:*.log.[0-9]*:rotated',
  ]);
  const cases: [string, RuleAction, string | null][] = [
    ['app.log', 'BLOCK', 'BLOCK:*.log:Logs'],
    ['a/b/c/app.log', 'BLOCK', 'BLOCK:*.log:Logs'],
    ['.log', 'BLOCK', 'BLOCK:*.log:Logs'],
    ['app.log.md', 'ANALYZE', null],
    ['node_modules/x/index.js', 'BLOCK', 'BLOCK:node_modules/:deps'],
    ['pkg/node_modules/x.js', 'BLOCK', 'BLOCK:node_modules/:deps'],
    ['node_modules', 'ANALYZE', null],
    ['src/node_modules.ts', 'ANALYZE', null],
    ['build/out/a.js', 'BLOCK', 'BLOCK:build/out/:anchored dir'],
    ['build/out/deep/a.js', 'BLOCK', 'BLOCK:build/out/:anchored dir'],
    ['x/build/out/a.js', 'ANALYZE', null],
    ['TODO.md', 'ALLOW', 'ALLOW:/TODO.md:root todo'],
    ['sub/TODO.md', 'ANALYZE', null],
    ['docs/a.md', 'ALLOW', 'ALLOW:docs/**/*.md:docs'],
    ['docs/x/y/a.md', 'ALLOW', 'ALLOW:docs/**/*.md:docs'],
    ['docs/a.log', 'BLOCK', 'BLOCK:*.log:Logs'],
    ['other/docs/a.md', 'ANALYZE', null],
    ['notes.md~', 'BLOCK', 'BLOCK:*~:backups'],
    ['src/.#main.c', 'BLOCK', 'BLOCK:.#*:emacs lock'],
    ['src/#main.c#', 'BLOCK', 'BLOCK:#*#:emacs autosave'],
    ['a/.x.swp', 'BLOCK', 'BLOCK:*.{swp,swo}:vim'],
    ['a/.x.swo', 'BLOCK', 'BLOCK:*.{swp,swo}:vim'],
    ['projects', 'ALLOW', 'ALLOW:projects/**:projects'],
    ['projects/a/b.txt', 'ALLOW', 'ALLOW:projects/**:projects'],
    ['projects/a/b.log', 'BLOCK', 'BLOCK:*.log:Logs'],
    ['projects/x/node_modules/y', 'BLOCK', 'BLOCK:node_modules/:deps'],
    ['secret.txt', 'BLOCK', 'BLOCK:**/secret.txt:deep literal'],
    ['a/b/secret.txt', 'BLOCK', 'BLOCK:**/secret.txt:deep literal'],
    ['a/cache-v2/x', 'BLOCK', 'BLOCK:cache*/:cache dirs'],
    ['a/cache-v2', 'ANALYZE', null],
    ['src/lib/index.ts', 'ALLOW', 'ALLOW:src/*/index.ts:one level'],
    ['src/a/b/index.ts', 'ANALYZE', null],
    ['srcx/lib/index.ts', 'ANALYZE', null],
    ['x.log.3', 'BLOCK', 'BLOCK:*.log.[0-9]*:rotated'],
    ['Dir With Space/ünï cödé.log', 'BLOCK', 'BLOCK:*.log:Logs'],
    ['-leading-dash.md', 'ANALYZE', null],
  ];
  for (const [path, action, rule] of cases) {
    const m = rs.match(path);
    assert.equal(m.action, action, path);
    assert.equal(m.rule, rule, path);
  }
});

test('match: first match wins, across indexed and regex rules', () => {
  const cases: [string[], string, string][] = [
    [['ALLOW:docs/**/*.md', 'BLOCK:*.md'], 'docs/a.md', 'ALLOW:docs/**/*.md'],
    [['BLOCK:*.md', 'ALLOW:docs/**/*.md'], 'docs/a.md', 'BLOCK:*.md'],
    [['ALLOW:a/b.txt', 'BLOCK:*.txt'], 'a/b.txt', 'ALLOW:a/b.txt'],
    [['BLOCK:*.txt', 'ALLOW:a/b.txt'], 'a/b.txt', 'BLOCK:*.txt'],
    [['ALLOW:x*', 'BLOCK:*.txt'], 'x.txt', 'ALLOW:x*'],
    [['BLOCK:a/', 'ALLOW:a/**'], 'a/b', 'BLOCK:a/'],
    [['ALLOW:a/**', 'BLOCK:a/'], 'a/b', 'ALLOW:a/**'],
    [['ANALYZE:*.{json,yml}', 'BLOCK:*.json'], 'c.json', 'ANALYZE:*.{json,yml}'],
    [['BLOCK:*.json', 'ALLOW:*.{json,yml}'], 'c.json', 'BLOCK:*.json'],
    [['ALLOW:s?c/**', 'BLOCK:src/'], 'src/a', 'ALLOW:s?c/**'],
  ];
  for (const [lines, path, rule] of cases) assert.equal(set(lines).match(path).rule, rule, `${lines.join(' | ')} on ${path}`);
});

test('match: literal start/end filters never hide a regex rule\'s match (globstar edges, escapes, negation)', () => {
  // Each rule is regex-backed; a filter that demanded a literal the match lacks would fall through to null.
  const cases: [string, string, string | null][] = [
    ['BLOCK:**/a/b.md', 'a/b.md', 'BLOCK:**/a/b.md'],
    ['BLOCK:**/a/b.md', 'x/a/b.md', 'BLOCK:**/a/b.md'],
    ['BLOCK:**/a/b*.md', 'a/b1.md', 'BLOCK:**/a/b*.md'],
    ['BLOCK:**/a/b*.md', 'x/a/b.md', 'BLOCK:**/a/b*.md'],
    ['BLOCK:x/**/y*.md', 'x/y.md', 'BLOCK:x/**/y*.md'],
    ['BLOCK:x/**/y*.md', 'x/p/q/y2.md', 'BLOCK:x/**/y*.md'],
    ['BLOCK:p/*/lib/**', 'p/a/lib', 'BLOCK:p/*/lib/**'],
    ['BLOCK:p/*/lib/**', 'p/a/lib/z.js', 'BLOCK:p/*/lib/**'],
    ['BLOCK:a\\*b', 'a*b', 'BLOCK:a\\*b'],
    ['BLOCK:a\\*b', 'axb', null],
    ['BLOCK:!*.md', 'x.txt', 'BLOCK:!*.md'],
    ['BLOCK:!*.md', 'x.md', null],
    ['BLOCK:!(*.md)', 'x.txt', 'BLOCK:!(*.md)'],
    ['BLOCK:!(*.md)', 'x.md', null],
    ['BLOCK:@(a|b).md', 'b.md', 'BLOCK:@(a|b).md'],
    ['BLOCK:q?/**/*.log', 'qa/z.log', 'BLOCK:q?/**/*.log'],
    ['BLOCK:.~lock.*#', 'd/.~lock.x.odt#', 'BLOCK:.~lock.*#'],
    ['BLOCK:.~lock.*#', 'd/.~lock.x.odt', null],
  ];
  for (const [line, path, want] of cases) {
    for (const memo of [0, 1, undefined]) {
      const rs = compileRules(parseRules(line, 'x.rules'), 'ANALYZE', memo === undefined ? {} : { memo });
      assert.equal(rs.match(path).rule, want, `${line} on ${path} (memo ${memo})`);
    }
  }
});

test('match: a memo slot shared by two paths never mixes up their answers', () => {
  const rs = compileRules(parseRules('BLOCK:*.log\nALLOW:docs/**', 'x.rules'), 'ANALYZE', { memo: 1 });
  for (let i = 0; i < 3; i++) {
    assert.equal(rs.match('docs/a.log').rule, 'BLOCK:*.log');
    assert.equal(rs.match('docs/a.md').rule, 'ALLOW:docs/**');
    assert.equal(rs.match('a.md').rule, null);
  }
});

test('match: .git is always blocked, before any rule', () => {
  const rs = set(['ALLOW:**', 'ALLOW:.git/'], 'ALLOW');
  for (const p of ['.git', '.git/config', '.git/objects/ab/cdef', 'sub/.git', 'sub/.git/HEAD']) {
    assert.deepEqual(rs.match(p).rule, 'builtin:git-dir', p);
    assert.equal(rs.match(p).action, 'BLOCK', p);
  }
  for (const p of ['.gitignore', 'a/.github/workflows/x.yml', 'x.git', '.gitx/a']) assert.notEqual(rs.match(p).rule, 'builtin:git-dir', p);
});

test('match: reasons are human and name the rule source', () => {
  const rs = compileRules(parseRules('# c\nALLOW:docs/**:User docs', 'rules/x.rules'), 'ANALYZE');
  assert.equal(rs.match('docs/a.md').reason, 'matched ALLOW:docs/**:User docs (rules/x.rules:2)');
  assert.equal(rs.match('a.md').reason, 'no rule matched; defaultAction is ANALYZE');
  assert.equal(compileRules([], 'BLOCK').match('a').action, 'BLOCK');
  const inline: Rule = { action: 'BLOCK', glob: 'x', description: '', text: 'BLOCK:x', source: '.winnow.json', line: 3, key: 'rules[3]' };
  assert.equal(compileRules([inline], 'ANALYZE').match('x').reason, 'matched BLOCK:x (.winnow.json rules[3])');
});

test('match: memo gives the same answers on repeated paths', () => {
  const rs = set(['BLOCK:*.log', 'ALLOW:docs/**']);
  for (let i = 0; i < 3; i++) {
    assert.equal(rs.match('docs/a.log').rule, 'BLOCK:*.log');
    assert.equal(rs.match('docs/a.md').rule, 'ALLOW:docs/**');
    assert.equal(rs.match('a.md').rule, null);
  }
});

test('built-in rule files parse and say what they promise', () => {
  const read = (n: string) => readFileSync(new URL(`../../rules/${n}.rules`, import.meta.url), 'utf8');
  const def = compileRules(parseRules(read('default'), 'builtin:default'), 'ANALYZE');
  const blocked = [
    'a/.notes.md.swp', 'a/.notes.md.swo', 'notes.md~', '.#notes.md', '#notes.md#', 'src/4913', 'a.bak', 'a.orig', 'x.tmp',
    'src/Main.java___jb_tmp___', 'src/Main.java___jb_old___', 'server.log', 'a/npm-debug.log.123', '.DS_Store', 'img/Thumbs.db',
    'node_modules/x/y.js', 'dist/a.js', 'pkg/build/a.o', '.venv/bin/python', 'a/__pycache__/m.pyc', 'target/debug/x',
    '.cache/x', 'coverage/lcov.info',
  ];
  for (const p of blocked) assert.equal(def.match(p).action, 'BLOCK', p);
  for (const p of ['README.md', 'src/index.ts', 'scripts/build', 'docs/build.md', 'notes/log.md']) assert.equal(def.match(p).action, 'ANALYZE', p);

  const cw = compileRules(parseRules(read('claude-workspace'), 'builtin:claude-workspace'), 'ANALYZE');
  const want: [string, RuleAction][] = [
    ['.claude/autonomous/service-status.json', 'BLOCK'],
    ['.claude/memory/enhanced-context.json', 'BLOCK'],
    ['.claude/intelligence/x.log', 'BLOCK'],
    ['.claude/intelligence/a/b/x.log', 'BLOCK'],
    ['logs/monitor.log', 'BLOCK'],
    ['logs/2024/monitor.log', 'BLOCK'],
    ['scripts/deploy.sh', 'ALLOW'],
    ['scripts/ops/deploy.sh', 'ALLOW'],
    ['docs/guide.md', 'ALLOW'],
    ['projects/x/main.py', 'ALLOW'],
    ['CLAUDE.md', 'ALLOW'],
    ['projects/x/CLAUDE.md', 'ALLOW'],
    ['other/CLAUDE.md', 'ANALYZE'],
    ['.claude/contexts/project-x.json', 'ANALYZE'],
    ['.claude/decisions/d1.md', 'ANALYZE'],
  ];
  for (const [p, a] of want) assert.equal(cw.match(p).action, a, p);
  assert.ok(cw.match('.claude/contexts/project-x.json').rule, 'ANALYZE comes from a rule, not the default');
});

test('suggestRules: sibling paths with one extension generalise; single paths are anchored literals', () => {
  const out = suggestRules([
    { path: '.claude/status/a.json', events: 9, periodMs: 30_000 },
    { path: '.claude/status/b.json', events: 7, periodMs: 30_000 },
    { path: 'monitor.txt', events: 6, periodMs: 120_000 },
    { path: 'x/[v1] state.yml', events: 5 },
    { path: 'y/already.log', events: 5 },
  ], (p) => p.endsWith('.log'));
  assert.deepEqual(out, [
    'BLOCK:.claude/status/*.json:2 files churned about every 30 s with no human evidence (quarantined)',
    'BLOCK:/monitor.txt:churned: 6 changes about every 2 min with no human evidence (quarantined)',
    'BLOCK:x/\\[v1\\] state.yml:churned: 5 changes with no human evidence (quarantined)',
  ]);
  // Every suggestion parses back and matches the paths it was made for.
  const rs = compileRules(parseRules(out.join('\n'), 'suggest'), 'ANALYZE');
  for (const p of ['.claude/status/a.json', '.claude/status/b.json', 'monitor.txt', 'x/[v1] state.yml']) assert.equal(rs.match(p).action, 'BLOCK', p);
  assert.equal(rs.match('sub/monitor.txt').action, 'ANALYZE');
  assert.deepEqual(suggestRules([]), []);
  assert.match(suggestRules([{ path: 'a/b:c.json' }])[0]!, /^# cannot express/);
});
