import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import picomatch from 'picomatch';
import { compileRules, formatRule, parseRules, validateGlob, type Rule } from '../../src/core/classify/rules.js';
import { normalisePath } from '../../src/core/event.js';
import type { RuleAction } from '../../src/core/decision.js';

const action = fc.constantFrom<RuleAction>('BLOCK', 'ALLOW', 'ANALYZE');

/** Glob segments from a small alphabet, so that generated paths actually hit them. */
const globSeg = fc.oneof(
  fc.stringMatching(/^[ab.x_-]{1,3}$/).filter((s) => s !== '.' && s !== '..'),
  fc.constantFrom('*', '**', '*.x', 'a*', '*a', '.a*', '?', '[ab]', '{a,b}', '*.{x,b}', 'a?x', '#*#', '*~', 'a*.x', 'x*a', '.a*b', 'a.[xb]*', 'a\\*', '*.x.*', '*a.x'),
);
const glob = fc
  .tuple(fc.boolean(), fc.array(globSeg, { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([lead, segs, trail]) => `${lead ? '/' : ''}${segs.join('/')}${trail ? '/' : ''}`)
  .filter((g) => validateGlob(g) === null);

const pathSeg = fc.oneof(
  fc.stringMatching(/^[ab.x_~#-]{1,4}$/).filter((s) => s !== '.' && s !== '..'),
  fc.constantFrom('a', 'b', '.a', 'a.x', 'b.x', 'x', '#a#', 'a~'),
);
const path = fc.array(pathSeg, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));

/** The semantics written out with plain picomatch, one matcher per rule, as the spec states them. */
function referenceMatcher(g: string): (p: string) => boolean {
  const anchored = g.startsWith('/');
  const dir = g.endsWith('/');
  const p = g.replace(/^\/+/, '').replace(/\/+$/, '');
  const hasSlash = p.includes('/');
  let full: string;
  // A lone `**` standing for one directory name is `*` (picomatch would let it match zero segments).
  if (!anchored && !hasSlash) full = dir ? `**/${p === '**' ? '*' : p}/**/*` : `**/${p}`;
  else full = dir ? `${p}/**/*` : p;
  return picomatch(full, { dot: true });
}

test('property: parseRules(formatRule(r)) gives r back', () => {
  const description = fc
    .string({ maxLength: 30 })
    .map((s) => s.replace(/[\r\n]/g, ' ').trim());
  const plainGlob = fc
    .string({ minLength: 1, maxLength: 20 })
    .map((s) => s.replace(/[:\r\n]/g, '').trim())
    .filter((g) => validateGlob(g) === null);
  fc.assert(
    fc.property(action, fc.oneof(glob, plainGlob), description, (a, g, d) => {
      const text = formatRule({ action: a, glob: g, description: d });
      const [r, ...more] = parseRules(text, 'p.rules');
      assert.equal(more.length, 0);
      assert.deepEqual([r!.action, r!.glob, r!.description, r!.text], [a, g, d, text]);
    }),
    { numRuns: 500 },
  );
});

test('property: the indexed matcher agrees with a loop of picomatch matchers (first match wins)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(action, glob), { minLength: 1, maxLength: 12 }), fc.array(path, { minLength: 1, maxLength: 20 }), (spec, paths) => {
      const rules: Rule[] = spec.map(([a, g], i) => ({ action: a, glob: g, description: '', text: `${a}:${g}`, source: 'p', line: i + 1 }));
      // Default memo, none, and a one-slot memo where every path evicts the previous one.
      const sets = [compileRules(rules, 'ANALYZE'), compileRules(rules, 'ANALYZE', { memo: 0 }), compileRules(rules, 'ANALYZE', { memo: 1 })];
      const ref = rules.map((r) => referenceMatcher(r.glob));
      for (const p of [...paths, ...paths]) {
        if (p === '.git' || p.startsWith('.git/') || p.includes('/.git')) continue;
        const i = ref.findIndex((m) => m(p));
        const want = i < 0 ? null : rules[i]!.text;
        for (const rs of sets) assert.equal(rs.match(p).rule, want, `path ${JSON.stringify(p)} with ${rules.map((r) => r.text).join(' | ')}`);
      }
    }),
    { numRuns: 1500 },
  );
});

test('property: normalisePath never returns "..", "." or empty segments, nor a leading / or \\', () => {
  const piece = fc.constantFrom('a', 'b', '.', '..', '', 'ü', ' x', '-y', '\\', '.git');
  const messy = fc.array(piece, { maxLength: 8 }).chain((parts) =>
    fc.array(fc.constantFrom('/', '\\', '//'), { minLength: parts.length, maxLength: parts.length }).map((seps) =>
      parts.map((p, i) => seps[i] + p).join(''),
    ),
  );
  const root = fc.constantFrom('/ws', '/ws/', 'C:\\ws', '/w s/ü');
  fc.assert(
    fc.property(root, messy, fc.boolean(), (r, p, prefixRoot) => {
      const input = prefixRoot ? r.replace(/[\\/]+$/, '') + p : p.replace(/^[\\/]+/, '');
      const out = normalisePath(r, input);
      if (out === null) return;
      assert.ok(!out.startsWith('/') && !out.startsWith('\\'), out);
      for (const seg of out.split('/')) assert.ok(seg !== '' && seg !== '.' && seg !== '..', `${JSON.stringify(input)} → ${JSON.stringify(out)}`);
    }),
    { numRuns: 2000 },
  );
});
