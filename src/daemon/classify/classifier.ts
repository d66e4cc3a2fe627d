/**
 * The classifier: one Decision per watch event. Layer 1 (rules, git-ignored, unsafe file types) →
 * layer 2 (who wrote it: fanotify writers, autonomous open handles, temporal correlation) → layer
 * 3 (content vs HEAD) → churn quarantine. Effects come in through ports; the policies live in
 * core/classify/*.
 *
 * The classifier does not start the writer trace (the lifecycle does, so that
 * `autonomous.fanotify: "on"` can fail start-up before anything else runs); `close()` stops it.
 */
import { readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { Config } from '../../core/config/defaults.js';
import type { Decision, Evidence, RuleMatch } from '../../core/decision.js';
import type { WatchEvent } from '../../core/event.js';
import { normalisePath } from '../../core/event.js';
import type { Clock, Fs, Git, Logger, ProcInfo, ProcessTable, ProcProbe, Scheduler, TraceState, WriterTrace } from '../../ports/index.js';
import { compareContent, isJsonPath, isLogOrTemp, parseJson, type ContentOptions, type JsonParse } from '../../core/classify/content.js';
import {
  autonomousSet,
  judgeOwnership,
  pageRound,
  type AutonomousProc,
  type HandleEvidence,
  type TemporalEvidence,
  type WriterEvidence,
} from '../../core/classify/ownership.js';
import { createChurnState, isQuarantined, quarantinedList, recordChange, type ChurnOptions } from '../../core/classify/churn.js';
import { readExecRegistry } from './exec-registry.js';
import type { EvidenceModes } from '../../core/status.js';

export type { EvidenceModes } from '../../core/status.js';

/**
 * What the classifier needs of layer 1: the compiled rule set of core/classify/rules.ts
 * satisfies it (`RuleSet.match`).
 */
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
const inGitDir = (path: string): boolean => path === '.git' || path.startsWith('.git/');

/** How long a decision waits for the trace to catch up with the writes before the event. */
const FLUSH_WAIT_MS = 50;
/** How long a process's working directory is trusted before it is read again. */
const CWD_TTL_MS = 30_000;
/** Write-counter samples kept per process, and for how long. */
const SAMPLES_PER_PID = 512;
const SAMPLE_KEEP_MS = 60_000;
/**
 * A file's mtime comes from the kernel's coarse clock (up to a tick, ~4 ms, behind the real time):
 * a sample taken this much after an mtime may still precede the write.
 */
const MTIME_SLACK_BEFORE_MS = 5;
/**
 * The write's pages are counted just after its mtime is set, and an exited child's counters reach
 * its parent when the parent reaps it: a sample this soon after the mtime may not hold them yet.
 */
const MTIME_SLACK_AFTER_MS = 25;
/** Process start times are known to 10 ms (clock ticks), and boot time to about as much. */
const START_SLACK_MS = 20;
/** Floor for the ticker's period. */
const TICK_MIN_MS = 100;
/** Recent changes remembered to explain autonomous write bytes (bounded). */
const RECENT_MAX = 5_000;
/** Sizes looked up per call to explain write bytes; beyond this the rest count as large (ALLOW side). */
const SIZE_LOOKUPS_MAX = 500;
/**
 * How long "does DIR hold a .git?" is remembered. `.git` is never watched, so nothing tells the
 * classifier when one appears or goes: a short TTL keeps an event storm to one lstat per
 * directory, and a repository made (or removed) inside the workspace is seen within this time.
 */
const NESTED_TTL_MS = 2_000;
/** Directories remembered (bounded: a storm over a huge tree must not grow it). */
const NESTED_MAX = 4_096;

interface Pending {
  idx: number;
  ev: WatchEvent;
  rule: RuleMatch | null;
  l1Ns: number;
  decided: Decision | null;
}

interface Recent {
  path: string;
  at: number;
  /** Size and mtime, looked up the first time a temporal judgement needs them. */
  size?: number;
  mtime?: number;
}

interface Sample {
  at: number;
  bytes: number;
}

const now_ns = () => process.hrtime.bigint();

export function createClassifier(deps: ClassifierDeps): Classifier {
  const { root, config, git, fs, clock, logger } = deps;
  const contentOpts: ContentOptions = config.json;
  const churnOpts: ChurnOptions = config.churn;
  const windowMs = config.autonomous.correlationWindowMs;
  const commands = config.autonomous.commands.map((c) => new RegExp(c));
  const churn = createChurnState();
  const headJson = new LRUCache<string, JsonParse>({ max: 256 });
  const samples = new Map<number, Sample[]>();
  /** Start time (epoch ms) of each sampled process, for processes first sampled after a write. */
  const startedAt = new Map<number, number | null>();
  /**
   * When the autonomous set was last looked at: a process started after it could not have been
   * sampled before, and its counter started at zero.
   */
  let lookedAt = clock.now();
  let lookedAtBefore = lookedAt;
  /** The autonomous set the ticker samples (the last one a decision computed). */
  let tickSet = new Map<number, AutonomousProc>();
  let tick: unknown = null;
  let closed = false;
  /** Sampling rounds run one after another, so each process's samples stay in time order. */
  let sampling: Promise<number> = Promise.resolve(0);
  const selfPid = deps.selfPid === undefined ? process.pid : deps.selfPid;
  /** Paths fanotify attributed to a person, with the event time (bounded). */
  const humanWritten = new LRUCache<string, number>({ max: 2_048 });
  const recent: Recent[] = [];
  let psFailed: string | null = null;
  const probeOk = { handles: process.platform === 'linux' || process.platform === 'darwin', io: process.platform === 'linux' };
  let memo: { table: ProcInfo[]; roots: string; set: Map<number, AutonomousProc> } | null = null;
  const warned = new Set<string>();
  const gitEntry = new LRUCache<string, { at: number; has: boolean }>({ max: NESTED_MAX });

  const warnOnce = (key: string, msg: string, fields: Record<string, unknown>) => {
    if (warned.has(key)) return;
    warned.add(key);
    logger.log('warn', msg, fields);
  };

  const execRoots =
    deps.execRoots ?? (async () => (await readExecRegistry(deps.stateDir)).map((r) => r.pid));

  async function autonomous(force: boolean, fresh = false, rootsHint?: number[]): Promise<Map<number, AutonomousProc>> {
    let roots: number[] = rootsHint ?? [];
    if (!rootsHint) {
      try {
        roots = await execRoots();
      } catch (e) {
        warnOnce('exec', 'cannot read winnow exec registrations', { error: String(e) });
      }
    }
    let table: ProcInfo[];
    try {
      table =
        force && deps.processes.refresh
          ? await deps.processes.refresh()
          : fresh && deps.processes.fresh
            ? await deps.processes.fresh()
            : await deps.processes.list();
      // A `winnow exec` root the cached table does not know started after it was taken.
      if (!force && deps.processes.refresh && roots.some((r) => !table.some((p) => p.pid === r))) {
        table = await deps.processes.refresh();
      }
      psFailed = null;
    } catch (e) {
      psFailed = `process table unavailable: ${(e as Error).message}`;
      warnOnce('ps', 'process table unavailable; layer 2 sees only fanotify writers', { error: String(e) });
      table = memo?.table ?? [];
    }
    const key = roots.join(',');
    if (memo && memo.table === table && memo.roots === key) return memo.set;
    const set = autonomousSet(table, { commands, users: config.autonomous.users, execRoots: roots, ...(selfPid !== null ? { self: selfPid } : {}) });
    memo = { table, roots: key, set };
    return set;
  }

  function traceActive(): boolean {
    return deps.trace !== null && deps.trace.state().mode === 'active';
  }

  /** True when `dir` (workspace-relative) holds a `.git` file or directory; cached for NESTED_TTL_MS. */
  async function holdsGit(dir: string, now: number): Promise<boolean> {
    const hit = gitEntry.get(dir);
    if (hit && now - hit.at < NESTED_TTL_MS) return hit.has;
    const has = (await fs.stat(join(root, dir, '.git')).catch(() => null)) !== null;
    gitEntry.set(dir, { at: now, has });
    return has;
  }

  /**
   * The outermost directory strictly between the root and `path` that is a git repository of its
   * own (a `.git` file or directory: a nested clone, `git init`, a submodule), or null. Its files
   * belong to that repository: the parent's `git add` skips them and `git commit -- PATH` fails.
   */
  async function nestedRepoOf(path: string): Promise<string | null> {
    const now = clock.now();
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
      const dir = path.slice(0, i);
      if (await holdsGit(dir, now)) return dir;
    }
    return null;
  }

  /** Layer 1 extras: the file types winnow never follows or commits. */
  async function unsafeKind(path: string): Promise<{ rule: string; reason: string } | null> {
    const abs = join(root, path);
    const st = await fs.stat(abs).catch(() => null);
    if (!st) return null;
    if (st.isSpecial) return { rule: 'builtin:special-file', reason: 'FIFO, socket or device: never read or committed' };
    if (st.isSymlink) {
      const target = await realpath(abs).catch(() => null);
      if (target === null) return null; // dangling: committed as a link, never followed
      if (normalisePath(root, target) === null && target !== root) {
        return { rule: 'builtin:symlink-outside', reason: `symlink pointing outside the workspace (${target}): never followed` };
      }
      return null;
    }
    if (st.isDirectory) {
      if (await holdsGit(path, clock.now())) {
        return { rule: 'builtin:nested-repo', reason: `${path}/ is a nested git repository (it has its own .git): not committed into this one` };
      }
      return { rule: 'builtin:directory', reason: 'a directory: its files are classified one by one' };
    }
    return null;
  }

  async function currentContent(path: string): Promise<Buffer | null> {
    const abs = join(root, path);
    const st = await fs.stat(abs);
    if (!st) return null;
    // git stores a symlink as its target text: compare that, never the followed content.
    if (st.isSymlink) return Buffer.from(await readlink(abs));
    try {
      return await fs.readFile(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async function layer3(path: string, at: number): Promise<{ decision: 'ALLOW' | 'BLOCK'; reason: string }> {
    const current = await currentContent(path);
    const kind = isLogOrTemp(path);
    // A new file (nothing at HEAD) needs no HEAD read beyond the lookup itself.
    const head = kind ? null : await git.headBlob(path);
    let hj: JsonParse | undefined;
    if (head && current && isJsonPath(path) && head.content.length <= contentOpts.maxBytes) {
      hj = headJson.get(head.id);
      if (!hj) {
        hj = parseJson(head.content);
        headJson.set(head.id, hj);
      }
    }
    return compareContent(path, head ? head.content : null, current, contentOpts, at, hj);
  }

  /** Working directory per autonomous PID, re-read after CWD_TTL_MS. */
  const cwds = new Map<number, { dir: string | null; at: number }>();
  /**
   * An autonomous process working in another tree (an agent of another workspace, a test's fake
   * agent next door) says nothing about this workspace: its write activity is not correlated.
   * Limit (documented): an agent whose cwd is elsewhere but that writes here by absolute path is
   * only seen through fanotify or open handles.
   */
  async function worksHere(pid: number, at: number): Promise<boolean> {
    if (!deps.probe.workingDir) return true;
    let c = cwds.get(pid);
    if (!c || at - c.at > CWD_TTL_MS) {
      c = { dir: await deps.probe.workingDir(pid), at };
      cwds.set(pid, c);
    }
    return c.dir === null || c.dir === root || c.dir.startsWith(root.endsWith('/') ? root : root + '/');
  }

  /**
   * One write-counter sample of each autonomous process working here, at `at`. Returns how many
   * were read. Rounds are serialised so each process's samples stay in time order.
   */
  function sampleCounters(set: Map<number, AutonomousProc>, at: number): Promise<number> {
    sampling = sampling.then(() => sampleRound(set, at));
    return sampling;
  }

  async function sampleRound(set: Map<number, AutonomousProc>, at: number): Promise<number> {
    let denied = 0;
    let here = 0;
    for (const pid of cwds.keys()) if (!set.has(pid)) cwds.delete(pid);
    await Promise.all(
      [...set.keys()].map(async (pid) => {
        if (!(await worksHere(pid, at))) {
          samples.delete(pid); // irrelevant here, whether or not its counter can be read
          return;
        }
        // Dated just before the read (the Linux probe reads synchronously within the call).
        const readAt = Math.max(at, clock.now());
        const bytes = await deps.probe.writeCounter(pid);
        if (bytes === 'gone') return; // exited since the set was listed
        if (bytes === null) {
          denied++;
          return;
        }
        here++;
        let list = samples.get(pid);
        if (!list) {
          samples.set(pid, (list = []));
          if (!startedAt.has(pid)) startedAt.set(pid, deps.probe.startedAt ? await deps.probe.startedAt(pid) : null);
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
    if (here > 0) probeOk.io = true;
    else if (denied > 0) {
      probeOk.io = false;
      warnOnce('io', 'cannot read /proc/PID/io of the autonomous processes (run as their user or root); temporal correlation is off', {});
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
  function armTicker(): void {
    if (!deps.scheduler || tick !== null || closed || samples.size === 0) return;
    const every = Math.max(TICK_MIN_MS, Math.floor(windowMs / 2));
    tick = deps.scheduler.setTimeout(() => {
      void sampleCounters(tickSet, clock.now()).then((here) => {
        tick = null;
        if (here > 0) armTicker();
      });
    }, every);
  }

  /** Size and mtime of a path now (a missing or non-file path is 0 bytes, mtime unknown). */
  async function statOf(path: string): Promise<{ size: number; mtime: number | null }> {
    const st = await fs.stat(join(root, path)).catch(() => null);
    return st && st.isFile ? { size: st.size, mtime: st.mtimeMs } : { size: 0, mtime: null };
  }

  /**
   * Temporal correlation for one change. The interval is the one between the two counter samples
   * around the change's write (its mtime; the event time for a deletion): what the autonomous
   * processes wrote in it, against what the other paths written in it account for.
   */
  async function temporalFor(
    ev: WatchEvent,
    set: Map<number, AutonomousProc>,
    budget: { lookups: number },
    now: number,
  ): Promise<TemporalEvidence | null> {
    const self = ev.kind === 'delete' ? { size: 0, mtime: null } : await statOf(ev.path);
    // A future mtime (clock skew, `touch -d`) says nothing about when the bytes were written.
    const t = self.mtime !== null && self.mtime <= now ? self.mtime : ev.at;
    let active = 0;
    let from = Infinity;
    let to = -Infinity;
    const movers: TemporalEvidence['movers'] = [];
    let any = false;
    for (const [pid, list] of samples) {
      let base: Sample | undefined;
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i]!.at <= t - MTIME_SLACK_BEFORE_MS) {
          base = list[i];
          break;
        }
      }
      if (!base) {
        // First sampled after the write: if it started since the set was last looked at, its
        // counter began at zero when it started; otherwise nothing is known about this write.
        const start = startedAt.get(pid);
        if (start === undefined || start === null || start > t + START_SLACK_MS || start < lookedAtBefore - START_SLACK_MS) continue;
        base = { at: start, bytes: 0 };
      }
      const after = list.find((x) => x.at >= t + MTIME_SLACK_AFTER_MS && x.at > base.at) ?? list[list.length - 1]!;
      if (after.at <= base.at) continue;
      any = true;
      const d = after.bytes - base.bytes;
      if (d > 0) {
        active += d;
        from = Math.min(from, base.at);
        to = Math.max(to, after.at);
        movers.push({ pid, command: set.get(pid)?.cmd ?? '?', bytes: d });
      }
    }
    if (!any) return null;
    let explained = 0;
    if (active > 0) {
      // The other paths written between the same samples, each counted once at its size in pages.
      const seen = new Set<string>();
      for (let i = recent.length - 1; i >= 0; i--) {
        const r = recent[i]!;
        // Events arrive after their write: one that arrived before the interval began was written
        // before it.
        if (r.at < from) break;
        if (r.path === ev.path || seen.has(r.path)) continue;
        // A file fanotify saw a person write is the person's bytes, not the agent's.
        const hw = humanWritten.get(r.path);
        if (hw !== undefined && hw >= r.at) continue;
        if (r.size === undefined) {
          if (budget.lookups-- > 0) {
            const st = await statOf(r.path);
            r.size = st.size;
            if (st.mtime !== null) r.mtime = st.mtime;
          } else {
            // Unknown: count it as explaining everything (towards ALLOW).
            seen.add(r.path);
            explained = Number.MAX_SAFE_INTEGER;
            break;
          }
        }
        // Surely written between the two samples: after the first, and before the second — by
        // more than the mtime's coarseness, or because its event had already arrived when the
        // second was taken (an event comes after its write). In doubt it explains nothing
        // (towards BLOCK). A deletion (no mtime) explains nothing either way.
        const w = r.mtime ?? r.at;
        if (w <= from || w > to) continue;
        if (w > to - MTIME_SLACK_BEFORE_MS && r.at > to) continue;
        seen.add(r.path);
        explained += pageRound(r.size);
        if (explained >= active) break;
      }
    }
    return { activeBytes: active, explainedBytes: explained, pathBytes: self.size, movers, windowMs: Number.isFinite(from) ? to - from : 0 };
  }

  function remember(events: WatchEvent[]): void {
    for (const e of events) recent.push({ path: e.path, at: e.at, ...(e.kind === 'delete' ? { size: 0 } : {}) });
    const cutoff = clock.now() - SAMPLE_KEEP_MS;
    let drop = 0;
    while (drop < recent.length && (recent[drop]!.at < cutoff || recent.length - drop > RECENT_MAX)) drop++;
    if (drop) recent.splice(0, drop);
  }

  async function classify(events: WatchEvent[]): Promise<Decision[]> {
    const out: Decision[] = new Array(events.length);
    const pend: Pending[] = [];
    // Layer 1: rules.
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      const t0 = now_ns();
      if (inGitDir(ev.path)) {
        out[i] = { path: ev.path, decision: 'BLOCK', layer: 1, rule: 'builtin:git-dir', reason: "git's own directory", timings: { l1Ns: Number(now_ns() - t0) } };
        continue;
      }
      const m = deps.rules.match(ev.path);
      const l1Ns = Number(now_ns() - t0);
      if (m.action === 'BLOCK') {
        out[i] = { path: ev.path, decision: 'BLOCK', layer: 1, rule: m.rule, reason: m.reason, timings: { l1Ns } };
        continue;
      }
      pend.push({ idx: i, ev, rule: m, l1Ns, decided: null });
    }
    remember(events);
    // Layer 1, built in: inside a nested repository; then git-ignored, which beats ALLOW rules
    // (one batched check per call).
    for (const p of pend) {
      const repo = await nestedRepoOf(p.ev.path);
      if (repo === null) continue;
      p.decided = {
        path: p.ev.path,
        decision: 'BLOCK',
        layer: 1,
        rule: 'builtin:nested-repo',
        reason: `inside the nested git repository ${repo}/ (it has its own .git): its files are that repository's, never committed into this one`,
        timings: { l1Ns: p.l1Ns },
      };
    }
    const open = pend.filter((p) => !p.decided);
    if (open.length) {
      let ignored = new Set<string>();
      try {
        ignored = await git.ignored([...new Set(open.map((p) => p.ev.path))]);
      } catch (e) {
        logger.log('warn', 'git check-ignore failed; treating paths as not ignored this time', { error: String(e) });
      }
      for (const p of open) {
        if (ignored.has(p.ev.path)) {
          p.decided = { path: p.ev.path, decision: 'BLOCK', layer: 1, rule: 'builtin:git-ignored', reason: 'git ignores it (.gitignore, info/exclude or global excludes)', timings: { l1Ns: p.l1Ns } };
          continue;
        }
        const unsafe = await unsafeKind(p.ev.path);
        if (unsafe) {
          p.decided = { path: p.ev.path, decision: 'BLOCK', layer: 1, rule: unsafe.rule, reason: unsafe.reason, timings: { l1Ns: p.l1Ns } };
          continue;
        }
        if (p.rule!.action === 'ALLOW') {
          p.decided = { path: p.ev.path, decision: 'ALLOW', layer: 1, rule: p.rule!.rule, reason: p.rule!.reason, timings: { l1Ns: p.l1Ns } };
        }
      }
    }
    const analyze = pend.filter((p) => !p.decided);
    if (analyze.length) await analyzeAll(analyze);
    for (const p of pend) out[p.idx] = p.decided!;
    return out;
  }

  async function analyzeAll(list: Pending[]): Promise<void> {
    const t0 = now_ns();
    const at = clock.now();
    const tracing = traceActive();
    if (tracing) await deps.trace!.flush(FLUSH_WAIT_MS);
    // Without an exact trace, temporal correlation needs every autonomous process that is running
    // now, including one started a moment ago: the cached table plus the processes started since.
    let set = await autonomous(false, !tracing);
    if (!tracing) {
      lookedAtBefore = lookedAt;
      lookedAt = at;
    }
    // Writers per path, from the trace.
    const writers = new Map<string, WriterEvidence[]>();
    if (tracing) {
      let unknown = false;
      const pidsOf = (p: Pending) => deps.trace!.writersOf(p.ev.path, p.ev.at - windowMs);
      for (const p of list) for (const w of pidsOf(p)) if (!set.has(w.pid) && !memo?.table.some((x) => x.pid === w.pid)) unknown = true;
      if (unknown && deps.processes.refresh) set = await autonomous(true);
      for (const p of list) {
        const ws = pidsOf(p).map((w): WriterEvidence => {
          const direct = set.get(w.pid);
          if (direct) return { pid: w.pid, command: direct.cmd, autonomous: true, why: direct.why };
          const anc = w.ancestors?.find((a) => set.has(a));
          if (anc !== undefined) return { pid: w.pid, command: w.command, autonomous: true, why: `descendant of autonomous ${anc}` };
          const entry = memo?.table.find((x) => x.pid === w.pid);
          if (!entry && !w.ancestors?.length) return { pid: w.pid, command: w.command, autonomous: false, unknown: true };
          return { pid: w.pid, command: entry?.cmd ?? w.command, autonomous: false };
        });
        if (ws.length) writers.set(p.ev.path, ws);
        const lastKnown = ws.filter((w) => !w.unknown).pop();
        if (lastKnown && !lastKnown.autonomous) humanWritten.set(p.ev.path, p.ev.at);
      }
    }
    const settled = (path: string) => writers.get(path)?.some((w) => !w.unknown) ?? false;
    // Open handles and write counters: only when there is an autonomous process to look at, and
    // only for paths fanotify did not already settle.
    const needWeaker = list.some((p) => !settled(p.ev.path));
    const handles = new Map<string, HandleEvidence[]>();
    let handlesKnown = false;
    if (needWeaker && set.size) {
      const results = await Promise.all([...set].map(async ([pid, info]) => ({ pid, info, files: await deps.probe.openFiles(pid) })));
      for (const r of results) {
        if (r.files === null) continue;
        handlesKnown = true;
        for (const f of r.files) {
          let l = handles.get(f);
          if (!l) handles.set(f, (l = []));
          l.push({ pid: r.pid, command: r.info.cmd, why: r.info.why });
        }
      }
    }
    // Sampled on every decision that reaches layer 2 (not only when needed now), so that the next
    // unattributed change has a fresh baseline; one /proc read per autonomous process.
    if (set.size) {
      await sampleCounters(set, at);
      tickSet = set;
      armTicker();
    } else {
      samples.clear();
      startedAt.clear();
    }
    const sharedUs = Number(now_ns() - t0) / 1000 / list.length;
    const budget = { lookups: SIZE_LOOKUPS_MAX };
    for (const p of list) {
      const t1 = now_ns();
      const ev = p.ev;
      const ws = writers.get(ev.path) ?? null;
      const temporal = !settled(ev.path) && set.size ? await temporalFor(ev, set, budget, at) : null;
      const own = judgeOwnership({
        writers: tracing ? ws ?? [] : null,
        handles: handlesKnown ? handles.get(ev.path) ?? [] : null,
        temporal,
      });
      const l2Us = sharedUs + Number(now_ns() - t1) / 1000;
      const counted = ev.source === undefined || ev.source === 'watch';
      const q = counted ? recordChange(churn, ev.path, ev.at, own.human, churnOpts) : isQuarantined(churn, ev.path);
      const evidence = own.evidence as Evidence[];
      const rule = p.rule!.rule;
      if (own.verdict === 'BLOCK') {
        p.decided = { path: ev.path, decision: 'BLOCK', layer: 2, rule, reason: own.reason, evidence, timings: { l1Ns: p.l1Ns, l2Us } };
        continue;
      }
      const t2 = now_ns();
      let l3: { decision: 'ALLOW' | 'BLOCK'; reason: string };
      try {
        l3 = await layer3(ev.path, at);
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

  async function prime(): Promise<void> {
    try {
      const set = await autonomous(false, true);
      const at = clock.now();
      lookedAtBefore = lookedAt;
      lookedAt = at;
      if (!set.size) return;
      await sampleCounters(set, at);
      tickSet = set;
      armTicker();
    } catch (e) {
      logger.log('warn', 'layer 2 start-up sample failed', { error: String(e) });
    }
  }

  return {
    classify,
    prime,
    evidenceModes() {
      const st: TraceState = deps.trace ? deps.trace.state() : { mode: 'off', reason: 'no writer trace configured' };
      return {
        fanotify: st.mode,
        ...('reason' in st ? { fanotifyReason: st.reason } : {}),
        openHandle: probeOk.handles,
        temporal: probeOk.io,
        processTable: psFailed === null,
      };
    },
    quarantined: () => quarantinedList(churn),
    blockedByRule: (path) => inGitDir(path) || deps.rules.match(path).action === 'BLOCK',
    async close() {
      closed = true;
      if (tick !== null) deps.scheduler?.clearTimeout(tick);
      tick = null;
      await deps.trace?.stop();
    },
  };
}
