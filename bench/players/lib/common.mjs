// Shared by the bench players. A player reads a plan (JSON file given as argv[2]), waits for the
// plan's t0, plays its operations at t0 + at, and prints one ground-truth JSON line per file
// operation to stdout: {"t","path","op","blob","label","edit"?,"writer"}. The runner reads these
// lines; they are the truth the git history is judged against.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Git's blob id of `bytes` (what `git hash-object` prints), so history can be matched exactly. */
export function blobId(bytes) {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
}

export function loadPlan() {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node PLAYER.mjs PLAN.json\n');
    process.exit(2);
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

const out = [];
let flushing = false;

/** Records one ground-truth operation. Lines are batched per tick to keep stdout writes few. */
export function record(rec) {
  out.push(JSON.stringify(rec));
  if (!flushing) {
    flushing = true;
    setImmediate(() => {
      flushing = false;
      const text = out.splice(0).join('\n') + '\n';
      process.stdout.write(text);
    });
  }
}

/** Resolves at epoch ms `at` (immediately if it has passed). */
export function until(at) {
  const d = at - Date.now();
  return d > 0 ? new Promise((r) => setTimeout(r, d)) : Promise.resolve();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Deterministic per-run words, so contents differ between runs only by counters and times. */
const WORDS = ['alpha', 'bravo', 'cedar', 'delta', 'ember', 'fjord', 'grove', 'harbor', 'iris', 'juniper', 'kestrel', 'lumen'];
export function words(n, seed) {
  const w = [];
  for (let i = 0; i < n; i++) w.push(WORDS[(seed * 7 + i * 5) % WORDS.length]);
  return w.join(' ');
}

/** Finishes pending stdout and exits. */
export function finish(code = 0) {
  const text = out.length ? out.splice(0).join('\n') + '\n' : '';
  process.stdout.write(text, () => process.exit(code));
}
