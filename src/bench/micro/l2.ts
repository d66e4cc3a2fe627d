/**
 * Layer-2 micro-benchmark: microseconds per path for the "who wrote it" check, amortized, on
 * this machine's real process table, with one real autonomous process running (a node script
 * named claude-autonomous-bench.mjs) so that open handles and write counters are really read.
 * Cache warm as in service: the ps-list snapshot is reused within its TTL; batches of 10 paths.
 * The fanotify trace is not used (its flush is a wait for the kernel, not work; see SPEC).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClassifier } from '../../daemon/classify/classifier.js';
import { createProcessTable } from '../../adapters/process-table.js';
import { createProcProbe } from '../../adapters/proc-probe.js';
import { nodeFs } from '../../adapters/node-fs.js';
import { systemClock } from '../../adapters/system-clock.js';
import { mergeConfig } from '../../core/config/schema.js';
import type { Git } from '../../ports/index.js';
import type { WatchEvent } from '../../core/event.js';

const CHECKS = 400;
const BATCH = 10;

export async function measureL2(): Promise<{ l2UsPerCheck: number }> {
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-l2-'));
  const script = join(dir, 'claude-autonomous-bench.mjs');
  await writeFile(script, "setInterval(() => {}, 1000); process.stdout.write('ready\\n');\n");
  // The agent works in the workspace, as agents do: its write counter is sampled on every check.
  const child = spawn(process.execPath, [script], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('error', reject);
    });
    for (let i = 0; i < BATCH; i++) await writeFile(join(dir, `f${i}.md`), `file ${i}\n`);
    // Layer 2 only: a git double that answers at once, so layer 3 is as cheap as possible and
    // only l2Us is read from the decisions.
    const git = { ignored: async () => new Set<string>(), headBlob: async () => null } as unknown as Git;
    const c = createClassifier({
      root: dir,
      stateDir: join(dir, '.state'),
      config: mergeConfig({}),
      rules: { match: () => ({ action: 'ANALYZE', rule: null, reason: 'default' }) },
      git,
      fs: nodeFs,
      clock: systemClock,
      logger: { log() {} },
      processes: createProcessTable({ ttlMs: 30_000 }),
      trace: null,
      probe: createProcProbe(dir),
      execRoots: async () => [],
    });
    const batch = (): WatchEvent[] =>
      Array.from({ length: BATCH }, (_, i) => ({ path: `f${i}.md`, kind: 'update', stream: 'all', priority: 'normal', at: Date.now() }));
    const first = await c.classify(batch()); // warms the ps-list cache, as the first event in service does
    if (!first.every((d) => d.timings?.l2Us !== undefined)) throw new Error('layer 2 did not run');
    let total = 0;
    let n = 0;
    for (let k = 0; k < CHECKS / BATCH; k++) {
      for (const d of await c.classify(batch())) {
        total += d.timings!.l2Us!;
        n++;
      }
    }
    await c.close();
    return { l2UsPerCheck: Math.round((total / n) * 100) / 100 };
  } finally {
    child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}
