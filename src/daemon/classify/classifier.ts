/**
 * The classifier: one Decision per watch event. Layer 1 (rules, git-ignored, unsafe file types) →
 * layer 2 (who wrote it: fanotify writers, autonomous open handles, temporal correlation) → layer
 * 3 (content vs HEAD); it feeds the churn detector, whose quarantine finalizeDecision applies. Effects come in through ports; the policies live in
 * core/classify/*. Its parts: file-facts.ts (built-in layer-1 facts that need the file system),
 * evidence.ts (layer 2's evidence for a batch), autonomous.ts (the autonomous set),
 * write-counters.ts (temporal correlation's samples), tracing.ts (traced and declared writes),
 * content-check.ts (layer 3).
 *
 * The classifier does not start the writer trace (the lifecycle does, so that
 * `autonomous.fanotify: "on"` can fail start-up before anything else runs); `close()` stops it.
 */
import type { Config } from '../../core/config/defaults.js';
import type { Decision, Evidence, RuleMatch } from '../../core/decision.js';
import type { WatchEvent } from '../../core/event.js';
import type { Clock, Fs, Git, Logger, ProcInfo, ProcessTable, ProcessTracer, ProcProbe, Scheduler, TraceState, WriterTrace } from '../../ports/index.js';
import { judgeOwnership } from '../../core/classify/ownership.js';
import { createChurnState, isQuarantined, quarantinedList, recordChange, type ChurnOptions, type QuarantinedPath } from '../../core/classify/churn.js';
import type { EvidenceModes } from '../../core/status.js';
import { readExecRegistry } from './exec-registry.js';
import { AutonomousProcesses } from './autonomous.js';
import { ContentCheck } from './content-check.js';
import { FileFacts } from './file-facts.js';
import { builtinDecision, gitDirFact, gitIgnoredFact, isInGitDir, nestedRepoFact } from '../../core/classify/builtins.js';
import { SIZE_LOOKUPS_MAX, WriteCounters } from './write-counters.js';
import { ProcessTracing } from './tracing.js';
import { EvidenceGatherer } from './evidence.js';
import { PathStats } from './path-stats.js';

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
   * The churn quarantine that holds `path`'s last decision: the detector quarantined it and no
   * person is known to have written it; null otherwise. Applied by finalizeDecision.
   */
  quarantineOf(path: string): QuarantinedPath | null;
  /**
   * Whether layer 1 alone blocks `path` (a rule, or `.git/`): cheap (memoized rule match), no
   * I/O. Lets the service classify what may be committed ahead of a storm of blocked paths.
   */
  blockedByRule(path: string): boolean;
  close(): Promise<void>;
}

/** Paths whose quarantine verdict is kept for finalizeDecision (the churn detector tracks as many). */
const CHURN_HOLDS_MAX = 10_000;

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
    quarantineOf: (path) => c.quarantineOf(path),
    blockedByRule: (path) => c.blockedByRule(path),
    close: () => c.close(),
  };
}

class LayeredClassifier {
  private readonly churnOpts: ChurnOptions;
  private readonly windowMs: number;
  private readonly churn = createChurnState();
  /** Paths whose last decision found them quarantined with no person known to have written them (bounded by the quarantine). */
  private readonly churnHolds = new Map<string, QuarantinedPath>();
  private readonly facts: FileFacts;
  private readonly content: ContentCheck;
  private readonly autonomous: AutonomousProcesses;
  private readonly counters: WriteCounters;
  private readonly tracing: ProcessTracing;
  private readonly evidence: EvidenceGatherer;
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
    this.counters = new WriteCounters({ root, clock, logger, probe: deps.probe, scheduler: deps.scheduler, windowMs: this.windowMs });
    this.evidence = new EvidenceGatherer({
      root,
      processes: deps.processes,
      trace: deps.trace,
      hasTracer: !!deps.tracer,
      probe: deps.probe,
      autonomous: this.autonomous,
      counters: this.counters,
      tracing: this.tracing,
      windowMs: this.windowMs,
      traceActive: () => this.traceActive(),
    });
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

  quarantineOf(path: string): QuarantinedPath | null {
    return this.churnHolds.get(path) ?? null;
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
    // A path left to layer 2 needs the process table: its read starts now, beside check-ignore.
    const table = pend.some((p) => p.rule!.action !== 'ALLOW') ? this.autonomous.prefetch() : undefined;
    const stats = new PathStats(this.deps.root, this.deps.fs);
    await this.builtins(pend, stats);
    const analyze = pend.filter((p) => !p.decided);
    if (analyze.length) await this.analyzeAll(analyze, table, stats);
    for (const p of pend) out[p.idx] = p.decided!;
    return out;
  }

  /**
   * Layer 1, built in (core/classify/builtins.ts): inside a nested repository; then git-ignored,
   * which beats ALLOW rules (one batched check per call); then unsafe file types; then the ALLOW rules.
   */
  private async builtins(pend: Pending[], stats: PathStats): Promise<void> {
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
      const fact = gitIgnoredFact(ignored.has(p.ev.path)) ?? (await this.facts.unsafeKind(p.ev.path, stats));
      if (fact) {
        p.decided = builtinDecision(p.ev.path, fact, p.l1Ns);
        continue;
      }
      if (p.rule!.action === 'ALLOW') {
        p.decided = { path: p.ev.path, decision: 'ALLOW', layer: 1, rule: p.rule!.rule, reason: p.rule!.reason, timings: { l1Ns: p.l1Ns } };
      }
    }
  }

  /** Layers 2 and 3 (and the churn quarantine) for the paths layer 1 left open. */
  private async analyzeAll(list: Pending[], table: Promise<ProcInfo[]> | undefined, stats: PathStats): Promise<void> {
    const t0 = now_ns();
    const at = this.deps.clock.now();
    const { set, fanotify: tracing, writers, verdicts, handles, sizes } = await this.evidence.gather(
      list.map((p) => p.ev),
      at,
      table,
      stats,
    );
    const sharedUs = Number(now_ns() - t0) / 1000 / list.length;
    const budget = { lookups: SIZE_LOOKUPS_MAX };
    for (const p of list) {
      const t1 = now_ns();
      const ev = p.ev;
      const ws = writers.get(ev.path) ?? null;
      const size = sizes.get(ev.path);
      const temporal = size ? await this.counters.temporalFor(ev, set, budget, at, await size, stats) : null;
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
      // The quarantine itself is applied after the classifier (core/classify/finalize.ts), on an ALLOW of layer 3.
      this.churnHolds.delete(ev.path);
      if (q && !own.human) {
        this.churnHolds.set(ev.path, q);
        if (this.churnHolds.size > CHURN_HOLDS_MAX) this.churnHolds.delete(this.churnHolds.keys().next().value as string);
      }
      const evidence = own.evidence as Evidence[];
      const rule = p.rule!.rule;
      if (own.verdict === 'BLOCK') {
        p.decided = { path: ev.path, decision: 'BLOCK', layer: 2, rule, reason: own.reason, evidence, timings: { l1Ns: p.l1Ns, l2Us } };
        continue;
      }
      const t2 = now_ns();
      let l3: { decision: 'ALLOW' | 'BLOCK'; reason: string };
      try {
        l3 = await this.content.judge(ev.path, at, stats);
      } catch (e) {
        // Unreadable now (permissions, a race with a rename): a content change is the safe side —
        // a person's edit is never dropped; a rescan looks again.
        l3 = { decision: 'ALLOW', reason: `content change (could not compare: ${(e as Error).message})` };
      }
      const l3Us = Number(now_ns() - t2) / 1000;
      const timings = { l1Ns: p.l1Ns, l2Us, l3Us };
      const reason = `${l3.reason}${own.human ? `; ${own.reason}` : ''}`;
      p.decided = { path: ev.path, decision: l3.decision, layer: 3, rule, reason, evidence, timings };
    }
  }
}
