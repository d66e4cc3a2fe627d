/**
 * A classifier on real adapters (git, process table, /proc, fatrace when asked) for a temp repo,
 * with this test process playing the person: its own writes count and it is never left out.
 */
import { join } from 'node:path';
import { createClassifier, type Classifier } from '../../src/daemon/classify/classifier.js';
import { createGit } from '../../src/adapters/git.js';
import { createProcessTable } from '../../src/adapters/process-table.js';
import { createProcProbe } from '../../src/adapters/proc-probe.js';
import { createFatraceTrace } from '../../src/adapters/fatrace.js';
import { nodeFs } from '../../src/adapters/node-fs.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import { mergeConfig } from '../../src/core/config/schema.js';
import type { WriterTrace } from '../../src/ports/index.js';

export async function realClassifier(
  root: string,
  withTrace: boolean,
  cleanups: (() => Promise<void> | void)[],
  config: Parameters<typeof mergeConfig>[0] = {},
): Promise<{ c: Classifier; trace: WriterTrace | null }> {
  const stateDir = join(root, '.git', 'winnow');
  const logger = { log() {} };
  const git = await createGit(root, { gitDir: join(root, '.git'), stateDir, timeoutMs: 10_000, hooks: false, logger });
  cleanups.push(() => git.close());
  let trace: WriterTrace | null = null;
  if (withTrace) {
    trace = createFatraceTrace({ root, stateDir, mode: 'on', logger, clock: systemClock, ignoreOwnTree: false });
    await trace.start();
    const t = trace;
    cleanups.push(() => t.stop());
  }
  const c = createClassifier({
    root,
    stateDir,
    config: mergeConfig({ ruleFiles: [], ...config }),
    rules: { match: () => ({ action: 'ANALYZE', rule: null, reason: 'default action' }) },
    git,
    fs: nodeFs,
    clock: systemClock,
    logger,
    // TTL 0-ish: each decision sees the agents started for it (the service uses cacheTtlMs).
    processes: createProcessTable({ ttlMs: 1 }),
    trace,
    probe: createProcProbe(root),
    selfPid: null,
  });
  return { c, trace };
}
