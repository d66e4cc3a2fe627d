import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import stringify from 'fast-json-stable-stringify';
import { compareContent, compareJson, compareJsonLines, isTimestampLike, type ContentOptions } from '../../src/core/classify/content.js';

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

// Pretty-printed documents: the line fast path (compareJsonLines) must never decide differently
// from the full comparison, and must decide the common case (volatile scalars rewritten) itself.
const OPTS_T: ContentOptions = { ...OPTS, detectTimestamps: true };
const stamp = fc.integer({ min: -86_400_000 * 400, max: 86_400_000 * 400 }).map((d) => new Date(NOW + d).toISOString());
const scalar = fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null), stamp, fc.constant('x "timestamp": 1'), fc.double({ noNaN: true, noDefaultInfinity: true }));
const { ptree } = fc.letrec<{ ptree: unknown }>((tie) => ({
  ptree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('ptree'), { maxLength: 3 }),
    fc.dictionary(key, tie('ptree'), { maxKeys: 4 }),
    fc.record({ timestamp: scalar, updated_at: stamp, data: tie('ptree') }),
  ),
}));
const pdoc = fc.dictionary(key, ptree, { minKeys: 1, maxKeys: 5 });
const indent = fc.constantFrom<number | string>(2, 4, '\t');

/** Every [object, key] whose value is a scalar, in document order. */
function scalarSlots(v: unknown, out: [Record<string, unknown>, string][] = []): [Record<string, unknown>, string][] {
  if (Array.isArray(v)) for (const x of v) scalarSlots(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (x === null || typeof x !== 'object') out.push([v as Record<string, unknown>, k]);
      else scalarSlots(x, out);
    }
  }
  return out;
}

test('pretty-printed: the verdict with the line fast path equals the full comparison', () => {
  const edit = fc.tuple(fc.nat(), fc.oneof(scalar, fc.constant({ at: 1 }), fc.constant(undefined)));
  fc.assert(
    fc.property(pdoc, fc.array(edit, { minLength: 1, maxLength: 4 }), indent, (head, edits, ind) => {
      const cur = structuredClone(head);
      const slots = scalarSlots(cur);
      fc.pre(slots.length > 0);
      for (const [i, v] of edits) {
        const [o, k] = slots[i % slots.length]!;
        if (v === undefined) delete o[k];
        else o[k] = v;
      }
      const hb = Buffer.from(JSON.stringify(head, null, ind));
      const cb = Buffer.from(JSON.stringify(cur, null, ind));
      const full = compareJson({ ok: true, value: JSON.parse(hb.toString()) }, JSON.parse(cb.toString()), OPTS_T, NOW);
      const fast = compareJsonLines(hb, cb, OPTS_T, NOW);
      if (fast) assert.equal(full.decision, 'BLOCK', `fast path said ${fast.reason}; full: ${full.reason}`);
      if (!hb.equals(cb)) assert.equal(compareContent('s.json', hb, cb, OPTS_T, NOW).decision, full.decision);
    }),
    { numRuns: 600 },
  );
});

test('pretty-printed: rewriting volatile scalars only is decided by the line fast path (BLOCK)', () => {
  fc.assert(
    fc.property(pdoc, fc.array(fc.tuple(fc.nat(), scalar), { minLength: 1, maxLength: 4 }), indent, (head, edits, ind) => {
      const cur = structuredClone(head);
      const slots = scalarSlots(cur).filter(([, k]) => VOLATILE.includes(k));
      fc.pre(slots.length > 0);
      for (const [i, v] of edits) {
        const [o, k] = slots[i % slots.length]!;
        o[k] = v;
      }
      const hb = Buffer.from(JSON.stringify(head, null, ind));
      const cb = Buffer.from(JSON.stringify(cur, null, ind));
      const fast = compareJsonLines(hb, cb, OPTS_T, NOW);
      assert.ok(fast, 'the fast path stepped aside');
      assert.equal(fast.decision, 'BLOCK');
      assert.deepEqual(compareContent('s.json', hb, cb, OPTS_T, NOW), hb.equals(cb) ? { decision: 'BLOCK', reason: 'unchanged (same bytes as HEAD)' } : fast);
    }),
    { numRuns: 400 },
  );
});

test('pretty-printed: a changed non-volatile scalar that is not a date-time on both sides is never decided by the fast path', () => {
  fc.assert(
    fc.property(pdoc, fc.nat(), scalar, indent, (head, pick, v, ind) => {
      const cur = structuredClone(head);
      const slots = scalarSlots(cur).filter(([, k]) => !VOLATILE.includes(k));
      fc.pre(slots.length > 0);
      const [o, k] = slots[pick % slots.length]!;
      const old = o[k];
      fc.pre(!Object.is(old, v) && !(isTimestampLike(old, NOW) && isTimestampLike(v, NOW)));
      o[k] = v;
      const hb = Buffer.from(JSON.stringify(head, null, ind));
      const cb = Buffer.from(JSON.stringify(cur, null, ind));
      fc.pre(!hb.equals(cb));
      assert.equal(compareJsonLines(hb, cb, OPTS_T, NOW), null);
      assert.equal(compareContent('s.json', hb, cb, OPTS_T, NOW).decision, 'ALLOW');
    }),
    { numRuns: 400 },
  );
});
