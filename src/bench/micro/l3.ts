/**
 * Layer-3 micro-benchmark: microseconds per comparison of a JSON file against its HEAD version,
 * with the parsed HEAD cached (as the classifier caches it by blob id). The change touches only
 * volatile keys (and a date-time under an ordinary key in every record), so no comparison can stop
 * early: the worst case for a BLOCK verdict.
 *
 * The documents are pretty-printed, as state files are, so the line fast path decides
 * (`compareJsonLines`); `l3UsPer100kCompactJson` is the same data on one line, which needs the
 * full parse and walk.
 */
import { compareContent, parseJson, type ContentOptions } from '../../core/classify/content.js';

const OPTS: ContentOptions = { volatileKeys: ['timestamp', 'last_update', 'updated_at', 'session_id'], detectTimestamps: true, maxBytes: 5_242_880 };

/** A status/context-like document of about `bytes` bytes compact (pretty-printed, as returned, ~1.7× that): nested records with timestamps. */
export function makeDoc(bytes: number, now: number, tick: number): string {
  const items: unknown[] = [];
  const doc = { timestamp: new Date(now + tick).toISOString(), session_id: `s-${tick}`, service: 'monitor', items };
  let i = 0;
  while (JSON.stringify(doc).length < bytes) {
    items.push({
      id: `task-${i}`,
      title: `Task number ${i} with some words`,
      done: i % 3 === 0,
      tags: ['alpha', 'beta', String(i % 7)],
      stats: { runs: i * 3, ok: i * 2, last_seen: new Date(now - 86_400_000 + i * 1000 + tick).toISOString(), updated_at: now + tick },
    });
    i++;
  }
  return JSON.stringify(doc, null, 2);
}

const compact = (doc: string) => JSON.stringify(JSON.parse(doc));

function measure(bytes: number, now: number, format: (doc: string) => string = (d) => d): number {
  const head = Buffer.from(format(makeDoc(bytes, now, 0)));
  const headJson = parseJson(head);
  const variants = Array.from({ length: 8 }, (_, k) => Buffer.from(format(makeDoc(bytes, now, k + 1))));
  const iterations = Math.max(50, Math.min(20_000, Math.round(20_000_000 / bytes)));
  for (let i = 0; i < Math.min(iterations, 200); i++) compareContent('s.json', head, variants[i % 8]!, OPTS, now, headJson);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const r = compareContent('s.json', head, variants[i % 8]!, OPTS, now, headJson);
    if (r.decision !== 'BLOCK') throw new Error(`bench document changed more than volatile fields: ${r.reason}`);
  }
  return Number(process.hrtime.bigint() - t0) / 1000 / iterations;
}

/** @example const { l3UsPer100kJson } = await measureL3(); // µs per comparison */
export async function measureL3(): Promise<{ l3UsPer1kJson: number; l3UsPer100kJson: number; l3UsPer100kCompactJson: number }> {
  const now = Date.now();
  return {
    l3UsPer1kJson: round(measure(1024, now)),
    l3UsPer100kJson: round(measure(100 * 1024, now)),
    l3UsPer100kCompactJson: round(measure(100 * 1024, now, compact)),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
