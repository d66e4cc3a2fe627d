/**
 * Starting the writer evidence a watcher event needs: the fanotify trace (fatrace) and, beside
 * it, process lineage (forkstat). Both are started at once: each waits for its tool to report a
 * first event (~100–450 ms under load), and one after the other they were a third of start-up at
 * 100k files. The service runs this beside taking daemon.lock, and subscribes the watcher only
 * after it, so every write the watcher reports was made while both were listening.
 */
import type { Logger, TraceState } from '../../ports/index.js';

export interface EvidenceTrace {
  start(): Promise<TraceState>;
  state(): TraceState;
  stop(): Promise<void>;
}

export interface EvidenceLineage {
  start(): Promise<{ active: true } | { active: false; reason: string }>;
  stop(): Promise<void>;
}

/**
 * Starts `trace` and `lineage` together. Lineage runs only beside an active trace (it resolves
 * fanotify's writers that exited before they were looked up): it is stopped when the trace is not
 * active or could not start. A trace that must run and cannot (`autonomous.fanotify` "on") rejects.
 */
export async function startEvidence(trace: EvidenceTrace | null, lineage: EvidenceLineage | null, logger: Logger): Promise<void> {
  const lin = lineage
    ? lineage.start().catch((e: Error) => ({ active: false as const, reason: e.message }))
    : Promise.resolve(null);
  const tr = trace ? trace.start().then(() => null, (e: Error) => e) : Promise.resolve(null);
  const [l, failed] = await Promise.all([lin, tr]);
  if (l && !l.active) logger.log('info', 'process lineage unavailable; a writer that exits before it is looked up is unknown', { reason: l.reason });
  if (lineage && l?.active && (failed || trace?.state().mode !== 'active')) await lineage.stop();
  if (failed) throw failed;
}
