/** The per-layer micro-benchmarks (src/bench/micro/), run once per bench (per repeat). */
import type { BenchResult } from './metrics.js';
import type { RunOptions } from './runner.js';

export interface LayerFigures {
  layers: BenchResult['layers'];
  extra: { l1NsPerPathWarm: number | null; rules: number | null; commitMsSmall: number | null; commitMs50k: number | null; inHistoryMs50k?: number | null };
  notes: string[];
  /** With `--repeat N`: `layers` and `extra` hold medians; these the worst of the N measurements. */
  worst?: { layers: BenchResult['layers']; extra: LayerFigures['extra'] };
}

interface MicroModules {
  l1: { measureL1(): Promise<{ l1NsPerPath: number; l1NsPerPathWarm: number; rules: number }> };
  l2: { measureL2(): Promise<{ l2UsPerCheck: number }> };
  l3: { measureL3(): Promise<{ l3UsPer1kJson: number; l3UsPer100kJson: number }> };
  commit: { measureCommit(): Promise<{ commitMsSmall: number; commitMs50k: number; inHistoryMs50k: number; files: number; rssMb: number }> };
}

// Literal specifiers, so tsc checks each module against its contract; a module that fails to load
// at run time (a broken build) is a null figure with a note, not a failed bench.
const MICRO: { [K in keyof MicroModules]: () => Promise<MicroModules[K]> } = {
  l1: () => import('./micro/l1.js'),
  l2: () => import('./micro/l2.js'),
  l3: () => import('./micro/l3.js'),
  commit: () => import('./micro/commit.js'),
};

async function loadMicro<K extends keyof MicroModules>(k: K, notes: string[]): Promise<MicroModules[K] | null> {
  try {
    return await MICRO[k]();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    notes.push(code === 'ERR_MODULE_NOT_FOUND' ? `${k}: micro-benchmark not built yet (src/bench/micro/${k}.ts); figures left null.` : `${k}: failed to load: ${(e as Error).message}`);
    return null;
  }
}

async function attempt<T>(name: string, notes: string[], f: () => Promise<T>): Promise<T | null> {
  try {
    return await f();
  } catch (e) {
    notes.push(`${name}: failed: ${(e as Error).message}`);
    return null;
  }
}

/** Per-layer micro-benchmarks, run once for the whole bench. */
export async function measureLayers(opts: Pick<RunOptions, 'skipMicro' | 'commitBench'>): Promise<LayerFigures> {
  const notes: string[] = [];
  const out: LayerFigures = {
    layers: { l1NsPerPath: null, l2UsPerCheck: null, l3UsPer1kJson: null, l3UsPer100kJson: null },
    extra: { l1NsPerPathWarm: null, rules: null, commitMsSmall: null, commitMs50k: null, inHistoryMs50k: null },
    notes,
  };
  if (opts.skipMicro) {
    notes.push('micro-benchmarks skipped (--skip-micro); layer figures left null.');
    return out;
  }
  const l1 = await loadMicro('l1', notes);
  const r1 = l1 && (await attempt('l1', notes, () => l1.measureL1()));
  if (r1) Object.assign(out.layers, { l1NsPerPath: r1.l1NsPerPath }), Object.assign(out.extra, { l1NsPerPathWarm: r1.l1NsPerPathWarm, rules: r1.rules });
  const l2 = await loadMicro('l2', notes);
  const r2 = l2 && (await attempt('l2', notes, () => l2.measureL2()));
  if (r2) out.layers.l2UsPerCheck = r2.l2UsPerCheck;
  const l3 = await loadMicro('l3', notes);
  const r3 = l3 && (await attempt('l3', notes, () => l3.measureL3()));
  if (r3) Object.assign(out.layers, { l3UsPer1kJson: r3.l3UsPer1kJson, l3UsPer100kJson: r3.l3UsPer100kJson });
  if (opts.commitBench) {
    const c = await loadMicro('commit', notes);
    const rc = c && (await attempt('commit', notes, () => c.measureCommit()));
    if (rc) Object.assign(out.extra, { commitMsSmall: rc.commitMsSmall, commitMs50k: rc.commitMs50k, inHistoryMs50k: rc.inHistoryMs50k });
    if (rc) notes.push(`commit: measured in a node of its own (peak RSS ${rc.rssMb} MB; the daemon's at 100k files is in scale-100k)`);
  }
  return out;
}
