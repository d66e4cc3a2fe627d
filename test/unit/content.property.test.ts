import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import stringify from 'fast-json-stable-stringify';
import { compareContent, type ContentOptions } from '../../src/core/classify/content.js';

const NOW = Date.UTC(2026, 5, 1);
const VOLATILE = ['timestamp', 'last_update', 'updated_at', 'session_id'];
const OPTS: ContentOptions = { volatileKeys: VOLATILE, detectTimestamps: false, maxBytes: 5_242_880 };
const buf = (v: unknown) => Buffer.from(JSON.stringify(v));

// Non-volatile keys never collide with the volatile ones.
const key = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !VOLATILE.includes(k) && k !== '__proto__');
const leaf = fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null));
const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(key, tie('tree'), { maxKeys: 5 }),
    // Objects that carry volatile keys somewhere below.
    fc.record({ timestamp: fc.integer(), data: tie('tree') }),
  ),
}));
const doc = fc.dictionary(key, tree, { minKeys: 1, maxKeys: 6 });

/** Every object in `v`, with a setter for its volatile keys. */
function objects(v: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(v)) for (const x of v) objects(x, out);
  else if (v && typeof v === 'object') {
    out.push(v as Record<string, unknown>);
    for (const x of Object.values(v)) objects(x, out);
  }
  return out;
}

/** Paths to every non-volatile leaf. */
function leaves(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, [...at, i], out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) if (!VOLATILE.includes(k)) leaves(x, [...at, k], out);
  } else if (at.length) out.push(at);
  return out;
}

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE.includes(k)).map(([k, x]) => [k, strip(x)]));
  return v;
}

test('changes to volatile keys only → BLOCK (and the canonical oracle agrees)', () => {
  fc.assert(
    fc.property(doc, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...VOLATILE), fc.oneof(fc.integer(), fc.string(), fc.constant(undefined))), { minLength: 1, maxLength: 6 }), (head, edits) => {
      const cur = structuredClone(head);
      const objs = [cur as Record<string, unknown>, ...objects(cur).slice(1)];
      for (const [i, k, v] of edits) {
        const o = objs[i % objs.length]!;
        if (v === undefined) delete o[k];
        else o[k] = v;
      }
      assert.equal(stringify(strip(head)), stringify(strip(cur)));
      const r = compareContent('s.json', buf(head), buf(cur), OPTS, NOW);
      assert.equal(r.decision, 'BLOCK', r.reason);
    }),
    { numRuns: 300 },
  );
});

test('any change to a non-volatile leaf → ALLOW', () => {
  fc.assert(
    fc.property(doc, fc.nat(), (head, pick) => {
      const paths = leaves(head);
      fc.pre(paths.length > 0);
      const cur = structuredClone(head) as Record<string, unknown>;
      const path = paths[pick % paths.length]!;
      let o: any = cur;
      for (const p of path.slice(0, -1)) o = o[p];
      const last = path[path.length - 1]!;
      const old = o[last];
      o[last] = typeof old === 'string' ? old + 'x' : typeof old === 'number' ? old + 1 : typeof old === 'boolean' ? !old : 'was null';
      assert.notEqual(stringify(strip(head)), stringify(strip(cur)));
      const r = compareContent('s.json', buf(head), buf(cur), OPTS, NOW);
      assert.equal(r.decision, 'ALLOW', r.reason);
    }),
    { numRuns: 300 },
  );
});

test('the verdict matches the canonical-form oracle on arbitrary pairs', () => {
  fc.assert(
    fc.property(doc, doc, (a, c) => {
      const r = compareContent('s.json', buf(a), buf(c), OPTS, NOW);
      const same = stringify(strip(a)) === stringify(strip(c));
      assert.equal(r.decision, same ? 'BLOCK' : 'ALLOW', r.reason);
    }),
    { numRuns: 300 },
  );
});
