/**
 * Temporal correlation's inputs (the algorithm is core/classify/temporal.ts): write-counter samples of the autonomous processes working in the
 * workspace (/proc/PID/io through the ProcProbe port), the recent changes that may explain their
 * bytes, and the ticker that keeps a sample at most `correlationWindowMs / 2` old while an
 * autonomous process works here.
 */
import { LRUCache } from 'lru-cache';
import type { WatchEvent } from '../../core/event.js';
import type { AutonomousProc, TemporalEvidence } from '../../core/classify/ownership.js';
import { bracketWrite, explainStep, startExplain, writeTime, type CounterSample, type RecentChange } from '../../core/classify/temporal.js';
import type { Clock, Logger, ProcProbe, Scheduler } from '../../ports/index.js';
import type { PathStats } from './path-stats.js';

/** How long a process's working directory is trusted before it is read again. */
const CWD_TTL_MS = 30_000;
/** Write-counter samples kept per process, and for how long. */
const SAMPLES_PER_PID = 512;
const SAMPLE_KEEP_MS = 60_000;
/** Floor for the ticker's period. */
const TICK_MIN_MS = 100;
/** Recent changes remembered to explain autonomous write bytes (bounded). */
const RECENT_MAX = 5_000;
/** Sizes looked up per call to explain write bytes; beyond this the rest count as large (ALLOW side). */
export const SIZE_LOOKUPS_MAX = 500;


/** A path's size and mtime (null: not a file, or deleted). */
export interface FileSize {
  size: number;
  mtime: number | null;
}

export interface WriteCountersDeps {
  root: string;
  clock: Clock;
  logger: Logger;
  probe: ProcProbe;
  /** Timer for the ticker; without one, counters are sampled only on decisions. */
  scheduler?: Scheduler | undefined;
  windowMs: number;
}

export class WriteCounters {
  private readonly samples = new Map<number, CounterSample[]>();
  /** Start time (epoch ms) of each sampled process, for processes first sampled after a write. */
  private readonly startedAt = new Map<number, number | null>();
  /**
   * When the autonomous set was last looked at: a process started after it could not have been
   * sampled before, and its counter started at zero.
   */
  private lookedAt: number;
  private lookedAtBefore: number;
  /** The autonomous set the ticker samples (the last one a decision computed). */
  private tickSet = new Map<number, AutonomousProc>();
  private tick: unknown = null;
  private closed = false;
  /** Sampling rounds run one after another, so each process's samples stay in time order. */
  private sampling: Promise<number> = Promise.resolve(0);
  /** Paths fanotify attributed to a person, with the event time (bounded). */
  private readonly humanWritten = new LRUCache<string, number>({ max: 2_048 });
  /** Recent changes; size and mtime looked up the first time a temporal judgement needs them. */
  private readonly recent: RecentChange[] = [];
  /** Autonomous PIDs seen writing or holding a file here (bounded). */
  private readonly seenHere = new LRUCache<number, true>({ max: 1_024 });
  /** Working directory per autonomous PID, re-read after CWD_TTL_MS. */
  private readonly cwds = new Map<number, { dir: string | null; at: number }>();
  private warnedIo = false;
  /** False once live processes refused their counters: temporal correlation is off. */
  ioOk = process.platform === 'linux';

  constructor(private readonly deps: WriteCountersDeps) {
    this.lookedAt = this.lookedAtBefore = deps.clock.now();
  }

  /** The autonomous set is being looked at now (a process started after this began at zero). */
  look(at: number): void {
    this.lookedAtBefore = this.lookedAt;
    this.lookedAt = at;
  }

  /** Samples `set` at `at` and keeps the ticker going while any of it works here. */
  async sample(set: Map<number, AutonomousProc>, at: number): Promise<void> {
    await this.sampleCounters(set, at);
    this.tickSet = set;
    this.armTicker();
  }

  /** No autonomous process: nothing to correlate. */
  clear(): void {
    this.samples.clear();
    this.startedAt.clear();
  }

  /** A person wrote `path` at `at` (fanotify): its bytes never explain an agent's. */
  noteHuman(path: string, at: number): void {
    this.humanWritten.set(path, at);
  }

  remember(events: WatchEvent[]): void {
    const recent = this.recent;
    for (const e of events) recent.push({ path: e.path, at: e.at, ...(e.kind === 'delete' ? { size: 0 } : {}) });
    const cutoff = this.deps.clock.now() - SAMPLE_KEEP_MS;
    let drop = 0;
    while (drop < recent.length && (recent[drop]!.at < cutoff || recent.length - drop > RECENT_MAX)) drop++;
    if (drop) recent.splice(0, drop);
  }

  close(): void {
    this.closed = true;
    if (this.tick !== null) this.deps.scheduler?.clearTimeout(this.tick);
    this.tick = null;
  }

  /** An autonomous process was seen writing or holding a file here (any rung): it works here. */
  noteHere(pid: number): void {
    this.seenHere.set(pid, true);
  }

  /**
   * Whether an autonomous process works in this workspace, so its write activity is correlated:
   * its cwd is here, its command line names the workspace, or it was seen writing or holding a
   * file here. The cwd alone never leaves one out for good (a monitor started by systemd has cwd
   * `/` and writes by absolute path): any of the three signs counts. An agent of another tree (a
   * test's agent next door) shows none, and its bytes are not counted against this one's saves.
   */
  private async worksHere(pid: number, info: AutonomousProc | undefined, at: number): Promise<boolean> {
    const { probe, root } = this.deps;
    if (!probe.workingDir) return true;
    if (this.seenHere.has(pid)) return true;
    if (info && info.cmd.includes(root)) return true;
    let c = this.cwds.get(pid);
    if (!c || at - c.at > CWD_TTL_MS) {
      c = { dir: await probe.workingDir(pid), at };
      this.cwds.set(pid, c);
    }
    return c.dir === null || c.dir === root || c.dir.startsWith(root.endsWith('/') ? root : root + '/');
  }

  /**
   * One write-counter sample of each autonomous process working here, at `at`. Returns how many
   * were read. Rounds are serialised so each process's samples stay in time order.
   */
  private sampleCounters(set: Map<number, AutonomousProc>, at: number): Promise<number> {
    this.sampling = this.sampling.then(() => this.sampleRound(set, at));
    return this.sampling;
  }

  private async sampleRound(set: Map<number, AutonomousProc>, at: number): Promise<number> {
    const { probe, clock } = this.deps;
    const { samples, startedAt } = this;
    let denied = 0;
    let here = 0;
    for (const pid of this.cwds.keys()) if (!set.has(pid)) this.cwds.delete(pid);
    await Promise.all(
      [...set.keys()].map(async (pid) => {
        if (!(await this.worksHere(pid, set.get(pid), at))) {
          samples.delete(pid); // irrelevant here, whether or not its counter can be read
          return;
        }
        // Dated just before the read (the Linux probe reads synchronously within the call).
        const readAt = Math.max(at, clock.now());
        const bytes = await probe.writeCounter(pid);
        if (bytes === 'gone') return; // exited since the set was listed
        if (bytes === null) {
          denied++;
          return;
        }
        here++;
        let list = samples.get(pid);
        if (!list) {
          samples.set(pid, (list = []));
          if (!startedAt.has(pid)) startedAt.set(pid, probe.startedAt ? await probe.startedAt(pid) : null);
        }
        const last = list[list.length - 1];
        if (last && last.at > readAt) return; // a later round already recorded
        list.push({ at: readAt, bytes });
        while (list.length > SAMPLES_PER_PID || (list.length > 2 && list[0]!.at < at - SAMPLE_KEEP_MS)) list.shift();
      }),
    );
    for (const pid of samples.keys()) if (!set.has(pid)) samples.delete(pid);
    for (const pid of startedAt.keys()) if (!set.has(pid)) startedAt.delete(pid);
    // Off only when live processes refused their counters; an agent that exited says nothing.
    if (here > 0) this.ioOk = true;
    else if (denied > 0) {
      this.ioOk = false;
      if (!this.warnedIo) {
        this.warnedIo = true;
        this.deps.logger.log('warn', 'cannot read /proc/PID/io of the autonomous processes (run as their user or root); temporal correlation is off', {});
      }
    }
    return here;
  }

  /**
   * While an autonomous process works in the workspace, its write counter is also read every
   * `correlationWindowMs / 2` (one /proc read per process), so that every write has a sample at
   * most that long before it: bytes an agent wrote long before a person's save (outside the
   * workspace, say) are never counted against the save. It stops as soon as no such process is
   * left, so an idle workspace has no timer.
   */
  private armTicker(): void {
    const { scheduler } = this.deps;
    if (!scheduler || this.tick !== null || this.closed || this.samples.size === 0) return;
    const every = Math.max(TICK_MIN_MS, Math.floor(this.deps.windowMs / 2));
    this.tick = scheduler.setTimeout(() => {
      void this.sampleCounters(this.tickSet, this.deps.clock.now()).then((here) => {
        this.tick = null;
        if (here > 0) this.armTicker();
      });
    }, every);
  }

  /** Size and mtime of a changed path now, for `temporalFor` (a deletion: 0 bytes, mtime unknown). */
  sizeOf(ev: WatchEvent, stats: PathStats): Promise<FileSize> {
    return ev.kind === 'delete' ? Promise.resolve({ size: 0, mtime: null }) : this.statOf(ev.path, stats);
  }

  private async statOf(path: string, stats: PathStats): Promise<FileSize> {
    const st = await stats.of(path);
    return st && st.isFile ? { size: st.size, mtime: st.mtimeMs } : { size: 0, mtime: null };
  }

  /**
   * Temporal correlation for one change (core/classify/temporal.ts): the autonomous processes'
   * counter movement around its write (its mtime; the event time for a deletion), against what
   * the other paths written in the same interval account for.
   */
  async temporalFor(
    ev: WatchEvent,
    set: Map<number, AutonomousProc>,
    budget: { lookups: number },
    now: number,
    /** `sizeOf(ev)`, read by the caller after the event arrived. */
    self: FileSize,
    stats: PathStats,
  ): Promise<TemporalEvidence | null> {
    const t = writeTime(self.mtime, ev.at, now);
    const b = bracketWrite(this.samples, this.startedAt, this.lookedAtBefore, t);
    if (!b) return null;
    let explained = 0;
    if (b.active > 0) {
      const input = { recent: this.recent, path: ev.path, from: b.from, to: b.to, active: b.active, humanWrittenAt: (p: string) => this.humanWritten.get(p) };
      const cursor = startExplain(this.recent);
      for (;;) {
        const step = explainStep(cursor, input, budget);
        if ('explained' in step) {
          explained = step.explained;
          break;
        }
        const st = await this.statOf(step.need.path, stats);
        step.need.size = st.size;
        if (st.mtime !== null) step.need.mtime = st.mtime;
      }
    }
    const movers = b.movers.map((m) => ({ pid: m.pid, command: set.get(m.pid)?.cmd ?? '?', bytes: m.bytes }));
    return { activeBytes: b.active, explainedBytes: explained, pathBytes: self.size, movers, windowMs: Number.isFinite(b.from) ? b.to - b.from : 0 };
  }
}
