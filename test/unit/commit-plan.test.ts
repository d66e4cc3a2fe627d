import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCommit, type PathFacts } from '../../src/core/commit/plan.js';
import { summarize, renderMessage } from '../../src/core/commit/summary.js';

const HOOKS = '/r/.git/winnow/hooks-empty';
const facts = (o: Record<string, [tracked: boolean, present: boolean]>) =>
  new Map<string, PathFacts>(Object.entries(o).map(([p, [tracked, present]]) => [p, { tracked, present }]));

test('summary: lists up to three paths, then two and a count', () => {
  const cases: [string[], string][] = [
    [[], '(no paths)'],
    [['a.md'], 'a.md'],
    [['src/b.ts', 'docs/a.md'], 'docs/a.md, src/b.ts'],
    [['c', 'b', 'a'], 'a, b, c'],
    [['docs/a.md', 'src/b.ts', 'x', 'y', 'z'], 'docs/a.md, src/b.ts (+3 more)'],
    [['a', 'a', 'b'], 'a, b'],
    [['line\nbreak.md'], 'line\\nbreak.md'],
  ];
  for (const [paths, want] of cases) assert.equal(summarize(paths), want, JSON.stringify(paths));
});

test('message: {summary} and {count}, always one line', () => {
  assert.equal(renderMessage('winnow: {summary}', ['a', 'b']), 'winnow: a, b');
  assert.equal(renderMessage('{count} files: {summary}', ['a', 'b']), '2 files: a, b');
  assert.equal(renderMessage('winnow: {summary}', ['x\ny']).includes('\n'), false);
  assert.equal(renderMessage('$& {summary}', ['a']), '$& a');
});

test('plan: per-path facts decide add -N, deletion, or drop', () => {
  const cases: { name: string; f: Record<string, [boolean, boolean]>; paths: string[]; ita: string[]; del: string[]; drop: string[] }[] = [
    { name: 'modified tracked', f: { 'a.md': [true, true] }, paths: ['a.md'], ita: [], del: [], drop: [] },
    { name: 'new file', f: { 'n.md': [false, true] }, paths: ['n.md'], ita: ['n.md'], del: [], drop: [] },
    { name: 'deleted tracked', f: { 'd.md': [true, false] }, paths: ['d.md'], ita: [], del: ['d.md'], drop: [] },
    { name: 'vanished temp', f: { '.a.swp': [false, false] }, paths: [], ita: [], del: [], drop: ['.a.swp'] },
    {
      name: 'rename = delete old + add new',
      f: { 'old.md': [true, false], 'new.md': [false, true] },
      paths: ['new.md', 'old.md'],
      ita: ['new.md'],
      del: ['old.md'],
      drop: [],
    },
  ];
  for (const c of cases) {
    const p = planCommit({ paths: Object.keys(c.f), facts: facts(c.f), messageTemplate: 'winnow: {summary}', hooks: false, hooksDir: HOOKS });
    assert.deepEqual(p.paths, c.paths, c.name);
    assert.deepEqual(p.intentToAdd, c.ita, c.name);
    assert.deepEqual(p.deletions, c.del, c.name);
    assert.deepEqual(p.dropped, c.drop, c.name);
    assert.equal(p.steps.length, c.paths.length === 0 ? 0 : c.ita.length ? 2 : 1, c.name);
  }
});

test('plan: commit --only with pathspecs on stdin, NUL-separated, literal, hooks off', () => {
  const odd = ['-rf', 'with space.md', 'ünï.md', 'new\nline.md'];
  const p = planCommit({
    paths: odd,
    facts: facts(Object.fromEntries(odd.map((x) => [x, [true, true]]))),
    messageTemplate: 'winnow: {summary}',
    hooks: false,
    hooksDir: HOOKS,
  });
  assert.equal(p.steps.length, 1);
  const commit = p.steps[0]!;
  assert.deepEqual(commit.args.slice(0, 5), ['-c', `core.hooksPath=${HOOKS}`, 'commit', '--only', '--no-verify']);
  assert.ok(commit.args.includes('--pathspec-from-file=-'));
  assert.ok(commit.args.includes('--pathspec-file-nul'));
  // No path ever reaches argv: one path starting with `-` would be an option.
  for (const x of odd) assert.ok(!commit.args.includes(x));
  assert.equal(commit.stdin, [...odd].sort().map((x) => x + '\0').join(''));
  assert.equal(commit.env?.GIT_LITERAL_PATHSPECS, '1');
});

test('plan: with commit.hooks, no hooksPath override and no --no-verify', () => {
  const p = planCommit({ paths: ['a'], facts: facts({ a: [true, true] }), messageTemplate: 'm', hooks: true, hooksDir: HOOKS });
  const args = p.steps[0]!.args;
  assert.equal(args[0], 'commit');
  assert.ok(!args.includes('--no-verify'));
  assert.ok(!args.some((a) => a.startsWith('core.hooksPath')));
});

test('plan: add -N gets only the untracked paths, through stdin', () => {
  const p = planCommit({
    paths: ['t', 'u1', 'u2'],
    facts: facts({ t: [true, true], u1: [false, true], u2: [false, true] }),
    messageTemplate: 'm',
    hooks: false,
    hooksDir: HOOKS,
  });
  assert.deepEqual(p.steps[0]!.args, ['add', '--intent-to-add', '--pathspec-from-file=-', '--pathspec-file-nul']);
  assert.equal(p.steps[0]!.stdin, 'u1\0u2\0');
  assert.equal(p.steps[1]!.stdin, 't\0u1\0u2\0');
});
