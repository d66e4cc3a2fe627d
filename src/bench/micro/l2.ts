/**
 * Layer-2 micro-benchmark: microseconds per path for the "who wrote it" check, amortized, on
 * this machine's real process table, with ten real autonomous processes running (node scripts
 * named claude-autonomous-bench.mjs), each holding 50 workspace files open (45 for reading, 5 for
 * writing), so that open handles and write counters are really read: the SPEC's target case.
 * Cache warm as in service: the ps-list snapshot is reused within its TTL; batches of 10 paths.
 * The fanotify trace is not used (its flush is a wait for the kernel, not work; see SPEC).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
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
const AGENTS = 10;
const OPEN_FILES = 50;
const WRITABLE = 5;

/** An agent that opens its files (the first WRITABLE of them for appending) and waits. */
const AGENT = `
const fs = require('node:fs');
const [dir, n, w] = process.argv.slice(2);
const fds = [];
for (let i = 0; i < Number(n); i++) fds.push(fs.openSync(dir + '/held-' + i + '.txt', i < Number(w) ? 'a' : 'r'));
setInterval(() => {}, 1000);
process.stdout.write('ready\\n');
`;

export async function measureL2(opts: { agents?: number; openFiles?: number } = {}): Promise<{ l2UsPerCheck: number }> {
  const agents = opts.agents ?? AGENTS;
  const openFiles = opts.openFiles ?? OPEN_FILES;
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-l2-'));
  const script = join(dir, 'claude-autonomous-bench.cjs');
  await writeFile(script, AGENT);
  const children: ReturnType<typeof spawn>[] = [];
  try {
    for (let a = 0; a < agents; a++) {
      const own = join(dir, `agent-${a}`);
      await mkdir(own, { recursive: true });
      for (let i = 0; i < openFiles; i++) await writeFile(join(own, `held-${i}.txt`), `held ${i}\n`);
      // The agents work in the workspace, as agents do: their write counters are sampled on every check.
      const child = spawn(process.execPath, [script, own, String(openFiles), String(Math.min(WRITABLE, openFiles))], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`the bench agent exited (${code})`)));
      });
    }
    for (let i = 0; i < BATCH; i++) await writeFile(join(dir, `f${i}.md`), `file ${i}\n`);
    // Layer 2 only: a git double that answers at once, so layer 3 is as cheap as possible and
    // only l2Us is read from the decisions.
    const git = { ignored: async () => new Set<string>(), headBlob: async () => null } as unknown as Git;
    const probe = createProcProbe(dir);
    let probed = 0;
    const listOpen = probe.openFiles.bind(probe);
    probe.openFiles = (pid, only) => (probed++, listOpen(pid, only));
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
      probe,
      execRoots: async () => [],
      // The agents are this process's children: the default (winnow's own PID and its children
      // are never autonomous) would leave the set empty and measure nothing of layer 2.
      selfPid: null,
    });
    const batch = (): WatchEvent[] =>
      Array.from({ length: BATCH }, (_, i) => ({ path: `f${i}.md`, kind: 'update', stream: 'all', priority: 'normal', at: Date.now() }));
    const first = await c.classify(batch()); // warms the ps-list cache, as the first event in service does
    if (!first.every((d) => d.timings?.l2Us !== undefined)) throw new Error('layer 2 did not run');
    if (probed < agents) throw new Error(`layer 2 looked at ${probed} of the ${agents} bench agents: they were not seen as autonomous`);
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
    for (const c of children) c.kill();
    await rm(dir, { recursive: true, force: true });
  }
}
