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
import { LRUCache } from 'lru-cache';
import type { AutonomousProc } from '../../core/classify/ownership.js';
import type { DeclaredEvidence, TraceEvidence } from '../../core/classify/ownership.js';
import { moveUp, rungOf, type ProcessRung, type RungFacts } from '../../core/classify/ladder.js';
import type { Clock, Logger, ProcessTracer, TracedWriteRecord } from '../../ports/index.js';
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
  clock: Clock;
  logger: Logger;
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

export class ProcessTracing {
  /** When each autonomous PID became covered: -Infinity when traced from its start. */
  private readonly coveredSince = new Map<number, number>();
  /** PIDs whose attach failed, with when and why. */
  private readonly refused = new Map<number, { at: number; reason: string }>();
  private lastRungs: ProcessRung[] = [];
  /** When each path was last judged (bounded): traced writes before it belong to that decision. */
  private readonly judged = new LRUCache<string, number>({ max: 10_000 });
  constructor(private readonly deps: TracingDeps) {}

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
  async judge(events: { path: string; at: number; wroteAt: number }[], set: Map<number, AutonomousProc>, windowMs: number): Promise<TraceVerdicts> {
    const out: TraceVerdicts = { traced: new Map(), declared: new Map() };
    const tracer = this.deps.tracer;
    if (!tracer) return out;
    const judgedAt = this.deps.clock.now();
    await tracer.sync();
    const enabled = this.enabled();
    const regs = await this.deps.execRegistrations().catch(() => [] as ExecRegistration[]);
    const uncovered = enabled ? await this.coverage(set, regs) : [];
    // A write judged before belongs to that decision: a person's save right after an agent's
    // write of the same file is not explained by the agent's (the last writer decides).
    const read = (path: string, at: number) => tracer.writesOf(path, Math.max(at - windowMs, this.judged.get(path) ?? -Infinity));
    let unexplained = false;
    const collect = () => {
      unexplained = false;
      for (const e of events) {
        const ws = read(e.path, e.at);
        const declared = ws.filter((w) => w.call === 'declared');
        const traced = ws.filter((w) => w.call !== 'declared');
        if (declared.length) out.declared.set(e.path, declared.map((d) => ({ at: d.at, source: d.source ?? 'winnow hook' })));
        if (!enabled) continue;
        const covered = uncovered.length === 0 && this.coveredAt(set, e.wroteAt);
        if (!traced.length && !declared.length && covered) unexplained = true;
        out.traced.set(e.path, { writes: traced.map(toWrite), covered, uncovered: uncovered.map((u) => ({ pid: u.pid, command: u.cmd })) });
      }
    };
    collect();
    if (unexplained) {
      // The trace lags the watcher by a few ms at most; look once more before calling it a person's.
      await new Promise((r) => setTimeout(r, TRACE_LAG_MS));
      await tracer.sync();
      collect();
    }
    for (const e of events) this.judged.set(e.path, judgedAt);
    return out;
  }

  /** True when every autonomous process was covered before `at`. */
  private coveredAt(set: Map<number, AutonomousProc>, at: number): boolean {
    for (const pid of set.keys()) {
      const since = this.coveredSince.get(pid);
      if (since === undefined) continue; // winnow's own (exec root, tracer)
      if (since > at - COVER_SLACK_MS) return false;
    }
    return true;
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
