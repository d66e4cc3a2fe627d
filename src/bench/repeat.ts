/**
 * `winnow bench --repeat N`: every figure of a scenario as the median and the worst of N runs
 * (a target holds when it holds in the worst run too). Pure: results in, aggregates out.
 */
import type { BenchResult } from './metrics.js';

/** What a figure's worst value is: the largest (latency, CPU, misses), or the smallest (precision, recall). */
const LOWER_IS_WORSE: ReadonlySet<string> = new Set(['accuracy.precision', 'accuracy.recall']);

/** Median of the non-null values (mean of the middle two for an even count); null when there are none. */
export function median(xs: readonly (number | null | undefined)[]): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** The worst of the non-null values for the figure at `key` (dotted path); null when there are none. */
export function worst(key: string, xs: readonly (number | null | undefined)[]): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return null;
  return LOWER_IS_WORSE.has(key) ? Math.min(...v) : Math.max(...v);
}

/**
 * Folds same-shaped objects figure by figure: numbers and nulls through `f(key, values)`, other
 * values (the scenario's name) from the first object.
 */
function fold<T>(objs: readonly T[], f: (key: string, xs: (number | null)[]) => number | null, prefix = ''): T {
  const first = objs[0] as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(first)) {
    const key = prefix ? `${prefix}.${k}` : k;
    const vals = objs.map((o) => (o as Record<string, unknown>)[k]);
    const sample = vals.find((v) => v !== null && v !== undefined);
    if (sample !== undefined && typeof sample === 'object' && !Array.isArray(sample)) {
      out[k] = fold(vals.map((v) => v ?? {}) as object[], f, key);
    } else if (sample === undefined || typeof sample === 'number') {
      const r = f(key, vals as (number | null)[]);
      out[k] = r === null ? null : Math.round(r * 1000) / 1000;
    } else out[k] = first[k];
  }
  return out as T;
}

export interface Repeated<T> {
  median: T;
  worst: T;
}

/**
 * Median and worst of N results of one scenario, figure by figure.
 *
 * @example
 *   const { median, worst } = aggregate([r1, r2, r3, r4, r5]);
 *   median.latency.p95Ms; // the median of the five runs' p95
 *   worst.accuracy.recall; // the lowest recall of the five
 */
export function aggregate<T extends object = BenchResult>(runs: readonly T[]): Repeated<T> {
  if (runs.length === 0) throw new Error('aggregate needs at least one run');
  return { median: fold(runs, (_k, xs) => median(xs)), worst: fold(runs, (k, xs) => worst(k, xs)) };
}
