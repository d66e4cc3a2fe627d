/**
 * The classifier: one Decision per watch event. Layer 1 (rules, git-ignored, unsafe file types) →
 * layer 2 (who wrote it: fanotify writers, autonomous open handles, temporal correlation) → layer
 * 3 (content vs HEAD) → churn quarantine. Effects come in through ports; the policies live in
 * core/classify/*. Its parts: file-facts.ts (built-in layer-1 facts that need the file system),
 * autonomous.ts (the autonomous set), write-counters.ts (temporal correlation's samples),
 * content-check.ts (layer 3).
 *
 * The classifier does not start the writer trace (the lifecycle does, so that
 * `autonomous.fanotify: "on"` can fail start-up before anything else runs); `close()` stops it.
 */
import { join } from 'node:path';
import type { Config } from '../../core/config/defaults.js';
import type { Decision, Evidence, RuleMatch } from '../../core/decision.js';
import type { WatchEvent } from '../../core/event.js';
import type { Clock, Fs, Git, Logger, ProcessTable, ProcessTracer, ProcProbe, Scheduler, TraceState, WriterTrace } from '../../ports/index.js';
import { judgeOwnership, type AutonomousProc, type HandleEvidence, type WriterEvidence } from '../../core/classify/ownership.js';
import { createChurnState, isQuarantined, quarantinedList, recordChange, type ChurnOptions } from '../../core/classify/churn.js';
import type { EvidenceModes } from '../../core/status.js';
import { readExecRegistry } from './exec-registry.js';
import { AutonomousProcesses } from './autonomous.js';
import { ContentCheck } from './content-check.js';
import { FileFacts } from './file-facts.js';
import { builtinDecision, gitDirFact, gitIgnoredFact, isInGitDir, nestedRepoFact } from '../../core/classify/builtins.js';
import { SIZE_LOOKUPS_MAX, WriteCounters, type FileSize } from './write-counters.js';
import { ProcessTracing, type TraceQuery, type TraceVerdicts } from './tracing.js';

export type { EvidenceModes } from '../../core/status.js';

export interface RuleMatcher {
  match(path: string): RuleMatch;
}

export interface ClassifierDeps {
  root: string;
  stateDir: string;
  config: Config;
  rules: RuleMatcher;
  git: Git;
  fs: Fs;
  clock: Clock;
  logger: Logger;
  processes: ProcessTable;
  trace: WriterTrace | null;
  /** Process tracing (strace) and declared writes (`winnow hook`); null: neither. */
  tracer?: ProcessTracer | null;
  /** Process lineage beside fanotify (forkstat). */
  lineage?: { active(): boolean } | null;
  probe: ProcProbe;
  /** `winnow exec` roots; default reads `<stateDir>/exec/`. Tests may inject. */
  execRoots?: () => Promise<number[]>;
  /**
   * Timer for the write-counter ticker that runs while an autonomous process works in the
   * workspace (see `armTicker`). Without one, counters are sampled only on decisions.
   */
  scheduler?: Scheduler;
  /**
   * winnow's own PID (default `process.pid`): it and its children are never autonomous. Null:
   * no exclusion (tests whose own process spawns the agents).
   */
  selfPid?: number | null;
}

export interface Classifier {
  /** One decision per event, same order. Records evidence + per-layer timings in each Decision. */
  classify(events: WatchEvent[]): Promise<Decision[]>;
  /**
   * Reads the process table and takes a first write-counter sample of the autonomous processes
   * working here, so the first change after start-up has a baseline. Never throws.
   */
  prime(): Promise<void>;
  evidenceModes(): EvidenceModes;
  quarantined(): { path: string; events: number; periodMs: number }[];
  /**
   * Whether layer 1 alone blocks `path` (a rule, or `.git/`): cheap (memoized rule match), no
   * I/O. Lets the service classify what may be committed ahead of a storm of blocked paths.
   */
  blockedByRule(path: string): boolean;
  close(): Promise<void>;
}

/** `.git` itself or anything under it: always blocked, before any rule. */

/** How long a decision waits for the trace to catch up with the writes before the event. */
const FLUSH_WAIT_MS = 50;
/**
 * How long before its event a write may have happened: @parcel/watcher batches events for up to
 * ~500 ms under continuous writes. A process traced since less than this is not yet trusted to
 * have seen a write reported now.
 */
const WATCH_LAG_MS = 500;

interface Pending {
  idx: number;
  ev: WatchEvent;
  rule: RuleMatch | null;
  l1Ns: number;
  decided: Decision | null;
}

const now_ns = () => process.hrtime.bigint();

export function createClassifier(deps: ClassifierDeps): Classifier {
  const c = new LayeredClassifier(deps);
  return {
    classify: (events) => c.classify(events),
    prime: () => c.prime(),
    evidenceModes: () => c.evidenceModes(),
    quarantined: () => c.quarantined(),
    blockedByRule: (path) => c.blockedByRule(path),
    close: () => c.close(),
  };
}

class LayeredClassifier {
  private readonly churnOpts: ChurnOptions;
  private readonly windowMs: number;
  private readonly churn = createChurnState();
  private readonly facts: FileFacts;
  private readonly content: ContentCheck;
  private readonly autonomous: AutonomousProcesses;
  private readonly counters: WriteCounters;
  private readonly tracing: ProcessTracing;
  /** Open handles can be listed (Linux /proc, lsof on macOS). */
  private readonly handlesOk = process.platform === 'linux' || process.platform === 'darwin';

  constructor(private readonly deps: ClassifierDeps) {
    const { root, config, git, fs, clock, logger } = deps;
    this.churnOpts = config.churn;
    this.windowMs = config.autonomous.correlationWindowMs;
    this.facts = new FileFacts({ root, fs, clock });
    this.content = new ContentCheck({ root, fs, git, options: config.json });
    this.autonomous = new AutonomousProcesses({
      config,
      processes: deps.processes,
      logger,
      execRoots: deps.execRoots ?? (async () => (await readExecRegistry(deps.stateDir)).map((r) => r.pid)),
      selfPid: deps.selfPid === undefined ? process.pid : deps.selfPid,
    });
    this.tracing = new ProcessTracing({
      tracer: deps.tracer ?? null,
      mode: config.autonomous.trace,
      fanotifyActive: () => this.traceActive(),
      lineageActive: () => deps.lineage?.active() ?? false,
      execRegistrations: () => readExecRegistry(deps.stateDir),
      probe: deps.probe,
      parentOf: deps.probe.parentOf ? (pid) => deps.probe.parentOf!(pid) : undefined,
      scheduler: deps.scheduler,
      clock,
      logger,
    });
    this.tracing.startPolling(() => this.autonomous.current(false, 'stale'));
    this.counters = new WriteCounters({ root, fs, clock, logger, probe: deps.probe, scheduler: deps.scheduler, windowMs: this.windowMs });
  }

  private traceActive(): boolean {
    return this.deps.trace !== null && this.deps.trace.state().mode === 'active';
  }

  blockedByRule(path: string): boolean {
    return isInGitDir(path) || this.deps.rules.match(path).action === 'BLOCK';
  }

  quarantined(): { path: string; events: number; periodMs: number }[] {
    return quarantinedList(this.churn);
  }

  evidenceModes(): EvidenceModes {
    const st: TraceState = this.deps.trace ? this.deps.trace.state() : { mode: 'off', reason: 'no writer trace configured' };
    return {
      fanotify: st.mode,
      ...('reason' in st ? { fanotifyReason: st.reason } : {}),
      openHandle: this.handlesOk,
      temporal: this.counters.ioOk,
      processTable: this.autonomous.psFailed === null,
      trace: this.tracing.state(),
      lineage: this.deps.lineage?.active() ?? false,
      processes: this.tracing.rungs(),
    };
  }

  async close(): Promise<void> {
    this.tracing.stopPolling();
    this.counters.close();
    this.deps.probe.close?.();
    await this.deps.tracer?.stop();
    await this.deps.trace?.stop();
  }

  async prime(): Promise<void> {
    try {
      const set = await this.autonomous.current(false, true);
      // Trace the agents already running, so their writes from now on are traced.
      if (this.tracing.enabled()) await this.tracing.cover(set);
      const at = this.deps.clock.now();
      this.counters.look(at);
      if (!set.size) return;
      await this.counters.sample(set, at);
    } catch (e) {
      this.deps.logger.log('warn', 'layer 2 start-up sample failed', { error: String(e) });
    }
  }

  async classify(events: WatchEvent[]): Promise<Decision[]> {
    const out: Decision[] = new Array(events.length);
    const pend: Pending[] = [];
    // Layer 1: rules.
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      const t0 = now_ns();
      const gitDir = gitDirFact(ev.path);
      if (gitDir) {
        out[i] = builtinDecision(ev.path, gitDir, Number(now_ns() - t0));
        continue;
      }
      const m = this.deps.rules.match(ev.path);
      const l1Ns = Number(now_ns() - t0);
      if (m.action === 'BLOCK') {
        out[i] = { path: ev.path, decision: 'BLOCK', layer: 1, rule: m.rule, reason: m.reason, timings: { l1Ns } };
        continue;
      }
      pend.push({ idx: i, ev, rule: m, l1Ns, decided: null });
    }
    this.counters.remember(events);
    await this.builtins(pend);
    const analyze = pend.filter((p) => !p.decided);
    if (analyze.length) await this.analyzeAll(analyze);
    for (const p of pend) out[p.idx] = p.decided!;
    return out;
  }

  /**
   * Layer 1, built in (core/classify/builtins.ts): inside a nested repository; then git-ignored,
   * which beats ALLOW rules (one batched check per call); then unsafe file types; then the ALLOW rules.
   */
  private async builtins(pend: Pending[]): Promise<void> {
    for (const p of pend) {
      const nested = nestedRepoFact(await this.facts.nestedRepoOf(p.ev.path));
      if (nested) p.decided = builtinDecision(p.ev.path, nested, p.l1Ns);
    }
    const open = pend.filter((p) => !p.decided);
    if (!open.length) return;
    let ignored = new Set<string>();
    try {
      ignored = await this.deps.git.ignored([...new Set(open.map((p) => p.ev.path))]);
    } catch (e) {
      this.deps.logger.log('warn', 'git check-ignore failed; treating paths as not ignored this time', { error: String(e) });
    }
    for (const p of open) {
      const fact = gitIgnoredFact(ignored.has(p.ev.path)) ?? (await this.facts.unsafeKind(p.ev.path));
      if (fact) {
        p.decided = builtinDecision(p.ev.path, fact, p.l1Ns);
        continue;
      }
      if (p.rule!.action === 'ALLOW') {
        p.decided = { path: p.ev.path, decision: 'ALLOW', layer: 1, rule: p.rule!.rule, reason: p.rule!.reason, timings: { l1Ns: p.l1Ns } };
      }
    }
  }

  /** Writers per path from the trace; refreshes the autonomous set when a writer is unknown. */
  private async writersOf(list: Pending[], set: Map<number, AutonomousProc>): Promise<{ writers: Map<string, WriterEvidence[]>; set: Map<number, AutonomousProc> }> {
    const trace = this.deps.trace!;
    const writers = new Map<string, WriterEvidence[]>();
    let unknown = false;
    const pidsOf = (p: Pending) => trace.writersOf(p.ev.path, p.ev.at - this.windowMs);
    for (const p of list) for (const w of pidsOf(p)) if (!set.has(w.pid) && !this.autonomous.table()?.some((x) => x.pid === w.pid)) unknown = true;
    if (unknown && this.deps.processes.refresh) set = await this.autonomous.current(true);
    for (const p of list) {
      const ws = pidsOf(p).map((w): WriterEvidence => {
        const direct = set.get(w.pid);
        if (direct) return { pid: w.pid, command: direct.cmd, autonomous: true, why: direct.why };
        const anc = w.ancestors?.find((a) => set.has(a));
        if (anc !== undefined) return { pid: w.pid, command: w.command, autonomous: true, why: `descendant of autonomous ${anc}` };
        const entry = this.autonomous.table()?.find((x) => x.pid === w.pid);
        if (!entry && !w.ancestors?.length) return { pid: w.pid, command: w.command, autonomous: false, unknown: true };
        return { pid: w.pid, command: entry?.cmd ?? w.command, autonomous: false };
      });
      if (ws.length) writers.set(p.ev.path, ws);
      const lastKnown = ws.filter((w) => !w.unknown).pop();
      if (lastKnown && !lastKnown.autonomous) this.counters.noteHuman(p.ev.path, p.ev.at);
    }
    return { writers, set };
  }

  /** What tracing needs to know of a change: its write time is the file's mtime when there is one. */
  private async traceQuery(ev: WatchEvent): Promise<TraceQuery> {
    const st = ev.kind === 'delete' ? null : await this.deps.fs.stat(join(this.deps.root, ev.path)).catch(() => null);
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

  /** Layers 2 and 3 (and the churn quarantine) for the paths layer 1 left open. */
  private async analyzeAll(list: Pending[]): Promise<void> {
    const t0 = now_ns();
    const at = this.deps.clock.now();
    const tracing = this.traceActive();
    if (tracing) await this.deps.trace!.flush(FLUSH_WAIT_MS);
    // Without an exact trace, temporal correlation needs every autonomous process that is running
    // now, including one started a moment ago: the cached table plus the processes started since.
    const straced = this.tracing.enabled();
    let set = await this.autonomous.current(false, !tracing || straced);
    if (!tracing) this.counters.look(at);
    let writers = new Map<string, WriterEvidence[]>();
    if (tracing) ({ writers, set } = await this.writersOf(list, set));
    // Rungs 2 and 3: traced writes, coverage of the autonomous set, declared writes. The write
    // happened before its event by at most the watcher's batching (up to ~500 ms).
    let verdicts: TraceVerdicts = { traced: new Map(), declared: new Map() };
    if (this.deps.tracer) {
      const queries = await Promise.all(list.map((p) => this.traceQuery(p.ev)));
      verdicts = await this.tracing.judge(queries, set, this.windowMs);
      if (!straced) this.tracing.rungsWithoutTracing(set);
    }
    // Positive evidence (a known writer, a traced or declared write) settles a path; a traced
    // absence does not rule out a file held open since before the attach (open handles still
    // look), but it makes write counters moot.
    const positive = (path: string) =>
      (writers.get(path)?.some((w) => !w.unknown) ?? false) || (verdicts.traced.get(path)?.writes.length ?? 0) > 0 || (verdicts.declared.get(path)?.length ?? 0) > 0;
    const settled = (path: string) => positive(path) || verdicts.traced.get(path)?.covered === true;
    // Open handles and write counters: only when there is an autonomous process to look at, and
    // only for paths fanotify did not already settle.
    const needWeaker = list.some((p) => !positive(p.ev.path));
    // Temporal correlation stats each path: started now, the thread pool does it while the open
    // handles and write counters are read from /proc below (synchronous reads).
    const stats = new Map<string, Promise<FileSize>>();
    if (set.size) for (const p of list) if (!settled(p.ev.path) && !stats.has(p.ev.path)) stats.set(p.ev.path, this.counters.sizeOf(p.ev));
    // Sampled on every decision that reaches layer 2 (not only when needed now), so that the next
    // unattributed change has a fresh baseline; one /proc read per autonomous process, which the
    // open-handle listing below reuses (the probe's round).
    this.deps.probe.round?.();
    if (set.size) await this.counters.sample(set, at);
    else this.counters.clear();
    const handles = needWeaker && set.size ? await this.openHandles(set, new Set(list.map((p) => p.ev.path))) : null;
    const sharedUs = Number(now_ns() - t0) / 1000 / list.length;
    const budget = { lookups: SIZE_LOOKUPS_MAX };
    for (const p of list) {
      const t1 = now_ns();
      const ev = p.ev;
      const ws = writers.get(ev.path) ?? null;
      const self = stats.get(ev.path);
      const temporal = self ? await this.counters.temporalFor(ev, set, budget, at, await self) : null;
      const own = judgeOwnership({
        writers: tracing ? ws ?? [] : null,
        traced: verdicts.traced.get(ev.path) ?? null,
        declared: verdicts.declared.get(ev.path) ?? null,
        handles: handles ? handles.get(ev.path) ?? [] : null,
        temporal,
        autonomousRunning: set.size > 0,
      });
      if (own.human) this.counters.noteHuman(ev.path, ev.at);
      // An agent seen writing or holding a file here works here, wherever its cwd is.
      for (const e of own.evidence) if (e.autonomous && e.pid !== undefined && e.kind !== 'temporal' && e.kind !== 'unknown') this.counters.noteHere(e.pid);
      const l2Us = sharedUs + Number(now_ns() - t1) / 1000;
      const counted = ev.source === undefined || ev.source === 'watch';
      // Quarantine needs evidence that an autonomous process writes the path, not a schedule alone.
      const autonomousEvidence = own.verdict === 'BLOCK' || own.evidence.some((e) => e.autonomous);
      const q = counted ? recordChange(this.churn, ev.path, ev.at, own.human, this.churnOpts, autonomousEvidence) : isQuarantined(this.churn, ev.path);
      const evidence = own.evidence as Evidence[];
      const rule = p.rule!.rule;
      if (own.verdict === 'BLOCK') {
        p.decided = { path: ev.path, decision: 'BLOCK', layer: 2, rule, reason: own.reason, evidence, timings: { l1Ns: p.l1Ns, l2Us } };
        continue;
      }
      const t2 = now_ns();
      let l3: { decision: 'ALLOW' | 'BLOCK'; reason: string };
      try {
        l3 = await this.content.judge(ev.path, at);
      } catch (e) {
        // Unreadable now (permissions, a race with a rename): a content change is the safe side —
        // a person's edit is never dropped; a rescan looks again.
        l3 = { decision: 'ALLOW', reason: `content change (could not compare: ${(e as Error).message})` };
      }
      const l3Us = Number(now_ns() - t2) / 1000;
      const timings = { l1Ns: p.l1Ns, l2Us, l3Us };
      if (l3.decision === 'ALLOW' && q && !own.human) {
        p.decided = {
          path: ev.path,
          decision: 'BLOCK',
          layer: 2,
          rule: 'builtin:churn',
          reason: `quarantined: changed ${q.events} times every ~${Math.round(q.periodMs / 1000)} s with no human evidence (winnow rules suggest proposes a rule)`,
          evidence,
          timings,
        };
        continue;
      }
      const reason = `${l3.reason}${own.human ? `; ${own.reason}` : ''}`;
      p.decided = { path: ev.path, decision: l3.decision, layer: 3, rule, reason, evidence, timings };
    }
  }
}
