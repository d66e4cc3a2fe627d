/**
 * Size limits that keep each stage findable (issue 12): no function in src/ over 150 lines, no
 * file in src/daemon/ over 400. A function that grows past the limit is a stage (or a policy)
 * that wants a module of its own; a daemon file past it holds more than one stage.
 *
 * Functions are found with the TypeScript parser: declarations, methods, constructors,
 * accessors, arrows and function expressions, nested ones included (a `createX(deps)` closure
 * counts as the whole closure).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const SRC = join(import.meta.dirname, '..', '..', 'src');
const MAX_FUNCTION_LINES = 150;
const MAX_DAEMON_FILE_LINES = 400;
/**
 * Over the limits today, to be split (issue 12). The list may only shrink: a new entry fails the
 * test, and so does an entry that is no longer over (take it off the list).
 */
const NOT_YET_SPLIT = new Set<string>([
]);

/** `long` less the known entries, and the known entries of `kind` that are no longer long. */
function againstKnown(long: string[], key: (s: string) => string, kind: (k: string) => boolean): { unexpected: string[]; fixed: string[] } {
  const keys = new Set(long.map(key));
  return {
    unexpected: long.filter((s) => !NOT_YET_SPLIT.has(key(s))),
    fixed: [...NOT_YET_SPLIT].filter((k) => kind(k) && !keys.has(k)),
  };
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every function-like node of `file` longer than `max` lines, as `path:line name (N lines)`. */
export function longFunctions(file: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const nameOf = (n: ts.Node): string => {
    if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isFunctionExpression(n) || ts.isGetAccessor(n) || ts.isSetAccessor(n)) && n.name) {
      return n.name.getText(sf);
    }
    if (ts.isConstructorDeclaration(n)) return 'constructor';
    const p = n.parent;
    if (p && ts.isVariableDeclaration(p)) return p.name.getText(sf);
    if (p && ts.isPropertyAssignment(p)) return p.name.getText(sf);
    if (p && ts.isPropertyDeclaration(p)) return p.name.getText(sf);
    return '(anonymous)';
  };
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const first = lineOf(n.getStart(sf));
      const lines = lineOf(n.getEnd()) - first + 1;
      if (lines > max) out.push(`${file}:${first} ${nameOf(n)} (${lines} lines)`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

function lineCount(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

test(`no function in src/ is over ${MAX_FUNCTION_LINES} lines`, () => {
  const long: string[] = [];
  for (const f of tsFiles(SRC)) long.push(...longFunctions(relative(SRC, f), readFileSync(f, 'utf8'), MAX_FUNCTION_LINES));
  const { unexpected, fixed } = againstKnown(long, (s) => s.replace(/:\d+ /, ' ').replace(/ \(\d+ lines\)$/, ''), (k) => k.includes(' '));
  assert.deepEqual(unexpected, [], `split these into named steps or modules:\n${unexpected.join('\n')}`);
  assert.deepEqual(fixed, [], 'no longer over the limit: take them off NOT_YET_SPLIT');
});

test(`no file in src/daemon/ is over ${MAX_DAEMON_FILE_LINES} lines`, () => {
  const big: string[] = [];
  for (const f of tsFiles(join(SRC, 'daemon'))) {
    const n = lineCount(readFileSync(f, 'utf8'));
    if (n > MAX_DAEMON_FILE_LINES) big.push(`${relative(SRC, f)} (${n} lines)`);
  }
  const { unexpected, fixed } = againstKnown(big, (s) => s.replace(/ \(\d+ lines\)$/, ''), (k) => !k.includes(' '));
  assert.deepEqual(unexpected, [], `one stage per file:\n${unexpected.join('\n')}`);
  assert.deepEqual(fixed, [], 'no longer over the limit: take them off NOT_YET_SPLIT');
});

test('the check sees long functions of every shape (it can fail)', () => {
  const body = Array.from({ length: 5 }, (_, i) => `  const x${i} = ${i};`).join('\n');
  const src = [
    `function decl() {\n${body}\n}`,
    `const arrow = () => {\n${body}\n};`,
    `class K {\n  method() {\n${body}\n  }\n  constructor() {\n${body}\n  }\n}`,
    `export function outer() {\n  return { inner: function () {\n${body}\n  } };\n}`,
    `function short() { return 1; }`,
  ].join('\n');
  const found = longFunctions('x.ts', src, 4).map((s) => s.replace(/ \(\d+ lines\)$/, ''));
  assert.deepEqual(found, ['x.ts:1 decl', 'x.ts:8 arrow', 'x.ts:16 method', 'x.ts:23 constructor', 'x.ts:31 outer', 'x.ts:32 inner']);
});
