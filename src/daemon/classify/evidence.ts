/**
 * Layer 2's evidence for the paths layer 1 left open, gathered once per classify call: the
 * autonomous set, fanotify's writers (rung 1), traced and declared writes (rungs 2 and 3), the
 * autonomous processes' open files, and a fresh write-counter sample (rung 4's baseline). The
 * classifier (classifier.ts) weighs it per path with core/classify/ownership.ts.
 */
import type { WatchEvent } from '../../core/event.js';
import type { ProcInfo, ProcessTable, ProcProbe, WriterTrace } from '../../ports/index.js';
import type { AutonomousProc, HandleEvidence, WriterEvidence } from '../../core/classify/ownership.js';
import type { AutonomousProcesses } from './autonomous.js';
import type { FileSize, WriteCounters } from './write-counters.js';
import type { ProcessTracing, TraceQuery, TraceVerdicts } from './tracing.js';
import type { PathStats } from './path-stats.js';

/** How long a decision waits for the trace to catch up with the writes before the event. */
const FLUSH_WAIT_MS = 50;
/**
 * How long before its event a write may have happened: @parcel/watcher batches events for up to
 * ~500 ms under continuous writes (the per-folder watcher delivers each read of the inotify queue
 * at once, but a busy event loop can hold it as long). A process traced since less than this is not yet trusted to
 * have seen a write reported now.
 */
const WATCH_LAG_MS = 500;

export interface EvidenceDeps {
  root: string;
  processes: ProcessTable;
  trace: WriterTrace | null;
  /** Process tracing or declared writes are configured (`ClassifierDeps.tracer`). */
  hasTracer: boolean;
  probe: ProcProbe;
  autonomous: AutonomousProcesses;
  counters: WriteCounters;
  tracing: ProcessTracing;
  windowMs: number;
  /** fanotify is active now. */
  traceActive(): boolean;
}

/** What layer 2 knows about a list of changes. */
export interface Layer2Facts {
  /** The autonomous set (pid → command, why). */
  set: Map<number, AutonomousProc>;
  /** fanotify was active: `writers` is exact. */
  fanotify: boolean;
  writers: Map<string, WriterEvidence[]>;
  verdicts: TraceVerdicts;
  /** Open files of the autonomous processes, by path; null when none could be listed (or not needed). */
  handles: Map<string, HandleEvidence[]> | null;
  /** Positive evidence, or a traced absence with full coverage, settles a path: write counters are moot. */
  settled(path: string): boolean;
  /** Size and mtime of each path temporal correlation will judge (not settled, autonomous set not empty). */
  sizes: Map<string, Promise<FileSize>>;
}

export class EvidenceGatherer {
  constructor(private readonly deps: EvidenceDeps) {}

  /** Layer 2's evidence for `events`, observed at `at`. */
  async gather(events: WatchEvent[], at: number, table: Promise<ProcInfo[]> | undefined, stats: PathStats): Promise<Layer2Facts> {
    const { autonomous, counters, tracing: procTracing, windowMs } = this.deps;
    const tracing = this.deps.traceActive();
    if (tracing) await this.deps.trace!.flush(FLUSH_WAIT_MS);
    // Without an exact trace, temporal correlation needs every autonomous process that is running
    // now, including one started a moment ago: the cached table plus the processes started since.
    const straced = procTracing.enabled();
    let set = await autonomous.current(false, !tracing || straced, undefined, table);
    if (!tracing) counters.look(at);
    let writers = new Map<string, WriterEvidence[]>();
    if (tracing) ({ writers, set } = await this.writersOf(events, set));
    // Rungs 2 and 3: traced writes, coverage of the autonomous set, declared writes. The write
    // happened before its event by at most the watcher's batching (up to ~500 ms).
    let verdicts: TraceVerdicts = { traced: new Map(), declared: new Map() };
    if (this.deps.hasTracer) {
      const queries = await Promise.all(events.map((ev) => this.traceQuery(ev, stats)));
      verdicts = await procTracing.judge(queries, set, windowMs);
      if (!straced) procTracing.rungsWithoutTracing(set);
    }
    // Positive evidence (a known writer, a traced or declared write) settles a path; a traced
    // absence does not rule out a file held open since before the attach (open handles still
    // look), but it makes write counters moot.
    const positive = (path: string) =>
      (writers.get(path)?.some((w) => !w.unknown) ?? false) || (verdicts.traced.get(path)?.writes.length ?? 0) > 0 || (verdicts.declared.get(path)?.length ?? 0) > 0;
    const settled = (path: string) => positive(path) || verdicts.traced.get(path)?.covered === true;
    // Open handles and write counters: only when there is an autonomous process to look at, and
    // only for paths fanotify did not already settle.
    const needWeaker = events.some((ev) => !positive(ev.path));
    // Temporal correlation stats each path: started now, the thread pool does it while the write
    // counters and open handles are read from /proc below (synchronous reads).
    const sizes = new Map<string, Promise<FileSize>>();
    if (set.size) for (const ev of events) if (!settled(ev.path) && !sizes.has(ev.path)) sizes.set(ev.path, counters.sizeOf(ev, stats));
    // Sampled on every decision that reaches layer 2 (not only when needed now), so that the next
    // unattributed change has a fresh baseline; one /proc read per autonomous process, which the
    // open-handle listing below reuses (the probe's round).
    this.deps.probe.round?.();
    if (set.size) await counters.sample(set, at);
    else counters.clear();
    const handles = needWeaker && set.size ? await this.openHandles(set, new Set(events.map((ev) => ev.path))) : null;
    return { set, fanotify: tracing, writers, verdicts, handles, settled, sizes };
  }

  /** Writers per path from the trace; refreshes the autonomous set when a writer is unknown. */
  private async writersOf(events: WatchEvent[], set: Map<number, AutonomousProc>): Promise<{ writers: Map<string, WriterEvidence[]>; set: Map<number, AutonomousProc> }> {
    const { autonomous, counters, windowMs } = this.deps;
    const trace = this.deps.trace!;
    const writers = new Map<string, WriterEvidence[]>();
    let unknown = false;
    const pidsOf = (ev: WatchEvent) => trace.writersOf(ev.path, ev.at - windowMs);
    for (const ev of events) for (const w of pidsOf(ev)) if (!set.has(w.pid) && !autonomous.table()?.some((x) => x.pid === w.pid)) unknown = true;
    if (unknown && this.deps.processes.refresh) set = await autonomous.current(true);
    for (const ev of events) {
      const ws = pidsOf(ev).map((w): WriterEvidence => {
        const direct = set.get(w.pid);
        if (direct) return { pid: w.pid, command: direct.cmd, autonomous: true, why: direct.why };
        const anc = w.ancestors?.find((a) => set.has(a));
        if (anc !== undefined) return { pid: w.pid, command: w.command, autonomous: true, why: `descendant of autonomous ${anc}` };
        const entry = autonomous.table()?.find((x) => x.pid === w.pid);
        // It or its autonomous ancestor is gone from the table (a one-shot job, an orphan): the
        // command lines the lineage saw at exec decide.
        const gone = autonomous.exited(w);
        if (gone) return { pid: w.pid, command: w.command, autonomous: true, why: gone };
        if (!entry && !w.ancestors?.length) return { pid: w.pid, command: w.command, autonomous: false, unknown: true };
        return { pid: w.pid, command: entry?.cmd ?? w.command, autonomous: false };
      });
      if (ws.length) writers.set(ev.path, ws);
      const lastKnown = ws.filter((w) => !w.unknown).pop();
      if (lastKnown && !lastKnown.autonomous) counters.noteHuman(ev.path, ev.at);
    }
    return { writers, set };
  }

  /** What tracing needs to know of a change: its write time is the file's mtime when there is one. */
  private async traceQuery(ev: WatchEvent, stats: PathStats): Promise<TraceQuery> {
    const st = ev.kind === 'delete' ? null : await stats.of(ev.path);
    const mtime = st && st.isFile ? st.mtimeMs : null;
    // A future mtime (clock skew, `touch -d`) says nothing about when the bytes were written.
    const wroteAt = mtime !== null && mtime <= ev.at ? mtime : ev.at - WATCH_LAG_MS;
    return { path: ev.path, at: ev.at, wroteAt, mtime, kind: ev.kind };
  }

  /** Open files of the autonomous processes, by path; null when none could be listed. */
  private async openHandles(set: Map<number, AutonomousProc>, paths: ReadonlySet<string>): Promise<Map<string, HandleEvidence[]> | null> {
    const handles = new Map<string, HandleEvidence[]>();
    let known = false;
    const results = await Promise.all([...set].map(async ([pid, info]) => ({ pid, info, files: await this.deps.probe.openFiles(pid, paths) })));
    for (const r of results) {
      if (r.files === null) continue;
      known = true;
      for (const f of r.files) {
        let l = handles.get(f);
        if (!l) handles.set(f, (l = []));
        l.push({ pid: r.pid, command: r.info.cmd, why: r.info.why });
      }
    }
    return known ? handles : null;
  }
}
