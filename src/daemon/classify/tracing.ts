/**
 * Layer 2's rungs 2 and 3 in the daemon: process tracing (strace) and declared writes.
 *
 * Which autonomous processes are traced is read from the kernel (`TracerPid`), never assumed:
 * a process traced by a `winnow exec` tracer or by one of the daemon's attachers is covered; one
 * that is not is attached to at once where ptrace is permitted (`autonomous.trace`), and until it
 * is, the trace cannot speak for it — its writes are unknown, and the weaker rungs decide. When
 * every autonomous process has been traced since before a write, a write no traced process made
 * is a person's.
 */
import type { AutonomousProc } from '../../core/classify/ownership.js';
import type { DeclaredEvidence, TraceEvidence } from '../../core/classify/ownership.js';
import { moveUp, rungOf, type ProcessRung, type RungFacts } from '../../core/classify/ladder.js';
import type { Clock, Logger, ProcessTracer, ProcProbe, Scheduler, TracedWriteRecord } from '../../ports/index.js';
import type { ExecRegistration } from './exec-registry.js';

export interface TracingDeps {
  tracer: ProcessTracer | null;
  /** `autonomous.trace`. */
  mode: 'auto' | 'on' | 'off';
  /** Whether the fanotify trace is active now (`auto` traces only without it). */
  fanotifyActive(): boolean;
  /** Whether process lineage (forkstat) is active now. */
  lineageActive(): boolean;
  /** Live `winnow exec` registrations (with their tracer PIDs). */
  execRegistrations(): Promise<ExecRegistration[]>;
  /** Write counters and start times, for what a process wrote before it was attached to. */
  probe: Pick<ProcProbe, 'writeCounter' | 'startedAt'>;
  /** Timer for the poll that finds new autonomous processes; without one, decisions find them. */
  scheduler?: Scheduler | undefined;
  clock: Clock;
  logger: Logger;
}

/** One change to judge: its path, event time, and when its bytes were written. */
export interface TraceQuery {
  path: string;
  at: number;
  /** Its write time: the file's mtime, or the event time less the watcher's lag. */
  wroteAt: number;
  /** The file's mtime now (null: deleted, or not a file). */
  mtime: number | null;
  kind: 'create' | 'update' | 'delete';
}

export interface TraceVerdicts {
  /** Per path: what tracing says (null when tracing is off). */
  traced: Map<string, TraceEvidence>;
  declared: Map<string, DeclaredEvidence[]>;
}

/**
 * How long a traced write may take to reach the store after the watcher reported its path:
 * strace reports the call when it returns, then a `winnow exec` producer files it. A path that
 * no traced write explains is looked at once more after this.
 */
const TRACE_LAG_MS = 40;
/** A failed attach is not retried for this long (another user's process, a debugger's). */
const ATTACH_RETRY_MS = 10_000;
/** A write this close before a process became traced may still have been its own. */
const COVER_SLACK_MS = 20;
/** Process start times are known to 10 ms (clock ticks). */
const START_SLACK_MS = 20;
/**
 * How long after a traced open-for-write its process may still be writing the file: the data of
 * a write lands after the open is recorded (strace stops the process at each traced call, and
 * under load it resumes late).
 */
const WRITE_LINGER_MS = 1_000;
/**
 * How often new autonomous processes are looked for while tracing can attach to them (one
 * `/proc` listing; no `ps`): a new agent is traced within this, and until then its writes are
 * unknown, not a person's.
 */
export const NEW_PROCESS_POLL_MS = 500;

/** What an attached process had written before the attach (its write counter then). */
interface PreAttach {
  /** When it started (epoch ms), or null when unknown. */
  start: number | null;
  /** write_bytes at the attach; -1 when unreadable. */
  bytes: number;
}

export class ProcessTracing {
  /** When each autonomous PID became covered: -Infinity when traced from its start. */
  private readonly coveredSince = new Map<number, number>();
  /** PIDs whose attach failed, with when and why. */
  private readonly refused = new Map<number, { at: number; reason: string }>();
  /** Processes attached to after they started, with what they had written by then. */
  private readonly preAttach = new Map<number, PreAttach>();
  private lastRungs: ProcessRung[] = [];
  /** Coverage rounds (decisions, the poll) run one after another. */
  private covering: Promise<unknown> = Promise.resolve();
  private poll: unknown = null;
  private closed = false;
  /** Writes before this were made while nobody watched: the late-attach doubt does not apply. */
  private readonly since: number;
  constructor(private readonly deps: TracingDeps) {
    this.since = deps.clock.now();
  }

  /**
   * Looks for new autonomous processes every NEW_PROCESS_POLL_MS while tracing can attach, so an
   * agent started after winnow is traced before it writes much. `current` is the autonomous set
   * (from `/proc` only: a poll never spawns `ps`).
   */
  startPolling(current: () => Promise<Map<number, AutonomousProc>>): void {
    const { scheduler, tracer } = this.deps;
    if (!scheduler || !tracer || this.closed || this.poll !== null) return;
    // Only where it can attach: otherwise (fanotify active, tracing off, ptrace refused) the
    // daemon has no timer for this, and decisions still look.
    const useful = () => this.enabled() && tracer.attachPermitted().ok;
    if (!useful()) return;
    const tick = async () => {
      this.poll = null;
      if (this.closed || !useful()) return;
      try {
        {
          const set = await current();
          if ([...set.keys()].some((pid) => !this.coveredSince.has(pid))) {
            const regs = await this.deps.execRegistrations().catch(() => [] as ExecRegistration[]);
            await this.coverageSerial(set, regs);
          }
        }
      } catch (e) {
        this.deps.logger.log('warn', 'looking for new autonomous processes failed', { error: String(e) });
      }
      if (!this.closed) this.poll = scheduler.setTimeout(() => void tick(), NEW_PROCESS_POLL_MS);
    };
    this.poll = scheduler.setTimeout(() => void tick(), NEW_PROCESS_POLL_MS);
  }

  stopPolling(): void {
    this.closed = true;
    if (this.poll !== null) this.deps.scheduler?.clearTimeout(this.poll);
    this.poll = null;
  }

  /** Attaches to the autonomous processes running now (start-up), so writes from now on are traced. */
  async cover(set: Map<number, AutonomousProc>): Promise<void> {
    if (!this.deps.tracer || !this.enabled()) return;
    const regs = await this.deps.execRegistrations().catch(() => [] as ExecRegistration[]);
    await this.coverageSerial(set, regs);
  }

  private coverageSerial(set: Map<number, AutonomousProc>, regs: ExecRegistration[]): Promise<{ pid: number; cmd: string }[]> {
    const run = this.covering.then(() => this.coverage(set, regs));
    this.covering = run.catch(() => undefined);
    return run;
  }

  /** Whether traced writes decide (rung 2 is on): strace available and the mode allows it. */
  enabled(): boolean {
    const { tracer, mode } = this.deps;
    if (!tracer || mode === 'off') return false;
    if (mode === 'auto' && this.deps.fanotifyActive()) return false;
    return tracer.available().ok;
  }

  /** `status`'s line about tracing. */
  state(): { mode: 'active' | 'off' | 'unavailable'; reason?: string; attach?: string } {
    const { tracer, mode } = this.deps;
    if (!tracer) return { mode: 'off', reason: 'no process tracer' };
    if (mode === 'off') return { mode: 'off', reason: 'autonomous.trace is "off"' };
    if (mode === 'auto' && this.deps.fanotifyActive()) return { mode: 'off', reason: 'fanotify is active (autonomous.trace "auto")' };
    const av = tracer.available();
    if (!av.ok) return { mode: 'unavailable', reason: av.reason };
    const ap = tracer.attachPermitted();
    return { mode: 'active', ...(ap.ok ? {} : { attach: ap.reason }) };
  }

  /** Per autonomous process, its rung, as of the last decision. */
  rungs(): ProcessRung[] {
    return this.lastRungs;
  }

  /**
   * Traced and declared evidence for `events` (path, event time, write time), given the
   * autonomous set now. Attaches to untraced autonomous processes on the way.
   */
  async judge(events: TraceQuery[], set: Map<number, AutonomousProc>, windowMs: number): Promise<TraceVerdicts> {
    const out: TraceVerdicts = { traced: new Map(), declared: new Map() };
    const tracer = this.deps.tracer;
    if (!tracer) return out;
    await tracer.sync();
    const enabled = this.enabled();
    const regs = await this.deps.execRegistrations().catch(() => [] as ExecRegistration[]);
    const uncovered = enabled ? await this.coverageSerial(set, regs) : [];
    // The writes that explain the file as it is: traced opens in the correlation window before
    // the event, or shortly before its last modification (mtime). A traced open is recorded when
    // it returns, before the data is written, and under load the data can land a second later,
    // after a first look at the file; and the watcher may report that write again later. An open
    // followed by a modification well after it (more than WRITE_LINGER_MS) is not what the file
    // holds now: the last writer decides (a person's save after an agent's write is theirs).
    const writesOf = (e: TraceQuery): TracedWriteRecord[] => {
      const since = e.mtime === null ? e.at - windowMs : Math.min(e.at - windowMs, e.mtime - WRITE_LINGER_MS);
      const ws = tracer.writesOf(e.path, since);
      return e.mtime === null ? ws : ws.filter((w) => e.mtime! <= w.at + WRITE_LINGER_MS);
    };
    let unexplained = false;
    const collect = () => {
      unexplained = false;
      for (const e of events) {
        const ws = writesOf(e);
        const declared = ws.filter((w) => w.call === 'declared');
        const traced = ws.filter((w) => w.call !== 'declared');
        if (declared.length) out.declared.set(e.path, declared.map((d) => ({ at: d.at, source: d.source ?? 'winnow hook' })));
        if (!enabled) continue;
        const cov = uncovered.length === 0 ? this.coveredAt(set, e) : { covered: false, late: [] };
        if (!traced.length && !declared.length && cov.covered) unexplained = true;
        out.traced.set(e.path, {
          writes: traced.map(toWrite),
          covered: cov.covered,
          uncovered: uncovered.map((u) => ({ pid: u.pid, command: u.cmd })),
          ...(cov.late.length ? { late: cov.late } : {}),
        });
      }
    };
    collect();
    if (unexplained) {
      // The trace lags the watcher by a few ms at most; look once more before calling it a person's.
      await new Promise((r) => setTimeout(r, TRACE_LAG_MS));
      await tracer.sync();
      collect();
    }
    return out;
  }

  /**
   * Whether every autonomous process was traced when `e` was written. One attached to only after
   * the write is a doubt (`late`), unless it started after the write, or had written no file
   * byte before the attach and `e` wrote bytes (a deletion or rename writes none).
   */
  private coveredAt(set: Map<number, AutonomousProc>, e: TraceQuery): { covered: boolean; late: { pid: number; command: string; detail: string }[] } {
    const late: { pid: number; command: string; detail: string }[] = [];
    let covered = true;
    for (const [pid, info] of set) {
      const since = this.coveredSince.get(pid);
      if (since === undefined) continue; // winnow's own (exec root, tracer), or gone
      if (since <= e.wroteAt - COVER_SLACK_MS) continue;
      covered = false;
      // Before winnow started nobody watched: that doubt is the weaker rungs' to weigh.
      if (e.wroteAt < this.since) continue;
      const pre = this.preAttach.get(pid);
      if (pre && pre.start !== null && pre.start > e.wroteAt + START_SLACK_MS) {
        covered = true;
        continue;
      }
      if (pre && pre.bytes === 0 && e.kind !== 'delete') {
        covered = true;
        continue;
      }
      late.push({ pid, command: info.cmd, detail: pre && pre.bytes > 0 ? `had written ${pre.bytes} bytes when winnow attached to it` : 'not traced yet when the path was written' });
    }
    if (late.length) covered = false;
    return { covered, late };
  }

  /**
   * Which autonomous processes are traced by our tracers; attaches to the rest where permitted.
   * Returns those still not traced.
   */
  private async coverage(set: Map<number, AutonomousProc>, regs: ExecRegistration[]): Promise<{ pid: number; cmd: string }[]> {
    const tracer = this.deps.tracer!;
    const now = this.deps.clock.now();
    const own = new Set<number>();
    const execTracers = new Set<number>();
    for (const r of regs) {
      own.add(r.pid); // winnow exec itself: writes only its registration and trace file, under .git
      if (r.tracer !== undefined) {
        own.add(r.tracer);
        execTracers.add(r.tracer);
      }
    }
    for (const pid of this.coveredSince.keys()) if (!set.has(pid)) this.coveredSince.delete(pid);
    for (const pid of this.preAttach.keys()) if (!set.has(pid)) this.preAttach.delete(pid);
    const untraced: { pid: number; cmd: string }[] = [];
    const facts = new Map<number, RungFacts>();
    const declaredPids = new Set<number>();
    const others = new Set<number>();
    for (const [pid, info] of set) {
      if (own.has(pid)) {
        this.coveredSince.delete(pid);
        continue;
      }
      // Another user's process cannot be traced by an ordinary user, and cannot write this user's
      // files unless the workspace is shared with it: it is left out of the coverage, and shown
      // on the heuristics rung (docs/evidence.md).
      if (tracer.otherUser(pid)) {
        others.add(pid);
        this.coveredSince.delete(pid);
        continue;
      }
      const by = tracer.tracerOf(pid);
      if (by === null) {
        // Exited since the table was read (or a zombie): it writes nothing any more.
        this.coveredSince.delete(pid);
        own.add(pid);
        continue;
      }
      const ours = by !== null && by !== 0 && (execTracers.has(by) || tracer.isOurTracer(by));
      if (ours) {
        const prev = this.coveredSince.get(pid);
        // First seen traced: from its start, when a `winnow exec` tracer runs it or it descends
        // from a traced process (strace -f followed it from its fork; the daemon attaches only
        // to PIDs it lists, and records when). Seen untraced before: since now.
        if (prev === undefined) this.coveredSince.set(pid, execTracers.has(by) || /descendant/.test(info.why) ? -Infinity : now);
        else if (prev === Infinity) this.coveredSince.set(pid, now);
      } else {
        this.coveredSince.set(pid, Infinity);
        untraced.push({ pid, cmd: info.cmd });
      }
      if (/winnow exec|descendant/.test(info.why) && regs.length) declaredPids.add(pid);
    }
    const permitted = tracer.attachPermitted();
    const toAttach = untraced.filter((u) => {
      const r = this.refused.get(u.pid);
      return !r || now - r.at > ATTACH_RETRY_MS;
    });
    if (permitted.ok && toAttach.length) {
      const res = await tracer.attach(toAttach.map((u) => u.pid));
      const at = this.deps.clock.now();
      for (const pid of res.attached) this.coveredSince.set(pid, at);
      // What each had written before the trace began: none means every write of it is traced.
      const { probe } = this.deps;
      await Promise.all(
        res.attached.map(async (pid) => {
          const bytes = await probe.writeCounter(pid).catch(() => null);
          const start = probe.startedAt ? await probe.startedAt(pid).catch(() => null) : null;
          this.preAttach.set(pid, { start, bytes: typeof bytes === 'number' ? bytes : -1 });
        }),
      );
      for (const u of toAttach) {
        if (!res.attached.includes(u.pid)) this.refused.set(u.pid, { at, reason: res.error ?? 'strace could not attach' });
      }
      if (res.error) this.deps.logger.log('warn', 'cannot trace autonomous processes; their writes fall to the next evidence rung', { pids: toAttach.map((u) => u.pid), reason: res.error });
    }
    const still = untraced.filter((u) => this.coveredSince.get(u.pid) === Infinity);
    // Rungs for status and doctor.
    const fan = this.deps.fanotifyActive();
    const lin = this.deps.lineageActive();
    this.lastRungs = [...set].filter(([pid]) => !own.has(pid)).map(([pid, info]) => {
      const traced = !others.has(pid) && this.coveredSince.get(pid) !== Infinity;
      const why = others.has(pid)
        ? "another user's process (not traceable without root; left out of the trace's coverage)"
        : !traced
          ? (this.refused.get(pid)?.reason ?? (permitted.ok ? 'not attached yet' : permitted.reason))
          : undefined;
      const f: RungFacts = { fanotify: fan, lineage: lin, traced, declared: declaredPids.has(pid), ...(why ? { untracedReason: why } : {}) };
      facts.set(pid, f);
      const rung = rungOf(f);
      const advice = moveUp(rung, f);
      return { pid, command: info.cmd, why: info.why, rung, ...(advice ? { advice } : {}) };
    });
    return still;
  }

  /** Rungs without tracing (fanotify active, or tracing off): computed from the set alone. */
  rungsWithoutTracing(set: Map<number, AutonomousProc>): ProcessRung[] {
    const fan = this.deps.fanotifyActive();
    const lin = this.deps.lineageActive();
    const reason = this.state().reason;
    this.lastRungs = [...set].map(([pid, info]) => {
      const f: RungFacts = { fanotify: fan, lineage: lin, traced: false, declared: /winnow exec/.test(info.why), ...(reason ? { untracedReason: reason } : {}) };
      const rung = rungOf(f);
      const advice = moveUp(rung, f);
      return { pid, command: info.cmd, why: info.why, rung, ...(advice ? { advice } : {}) };
    });
    return this.lastRungs;
  }
}

function toWrite(w: TracedWriteRecord): { pid: number; call: string; at: number } {
  return { pid: w.pid, call: w.call, at: w.at };
}
