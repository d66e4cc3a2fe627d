/**
 * Layer 2 policy: who wrote it. Pure: the classifier gathers evidence (fanotify writers, open
 * handles, write-counter deltas) and this module weighs it, strongest first (SPEC "Layer 2").
 */
import type { Evidence } from '../decision.js';
import type { ProcInfo } from '../../ports/index.js';

/** Why a process is in the autonomous set. */
export interface AutonomousProc {
  cmd: string;
  why: string;
}

export interface AutonomousCriteria {
  /** `autonomous.commands`, compiled. Matched against the full command line. */
  commands: readonly RegExp[];
  /** `autonomous.users`: user names (or numeric uids as strings). */
  users: readonly string[];
  /** Roots registered by `winnow exec`: they and their descendants are autonomous. */
  execRoots: readonly number[];
  /**
   * winnow's own PID: it and its descendants (its git children) are never autonomous, even when
   * winnow was started from an agent's terminal; their writes go to `.git/`, not the work tree.
   */
  self?: number;
}

/**
 * The autonomous set: processes whose command line matches, whose owner is listed, roots started
 * by `winnow exec`, and every descendant of any of them (walked through the ppid chain).
 *
 * @example
 * autonomousSet([{pid: 10, ppid: 1, name: 'node', cmd: 'node claude-autonomous.mjs'},
 *                {pid: 11, ppid: 10, name: 'sh', cmd: 'sh -c echo'}],
 *               {commands: [/claude-autonomous/], users: [], execRoots: []})
 * // → Map { 10 → {why: 'command matches /claude-autonomous/'}, 11 → {why: 'child of 10 …'} }
 */
export function autonomousSet(procs: readonly ProcInfo[], c: AutonomousCriteria): Map<number, AutonomousProc> {
  const out = new Map<number, AutonomousProc>();
  const users = new Set(c.users);
  const execRoots = new Set(c.execRoots);
  const children = new Map<number, ProcInfo[]>();
  for (const p of procs) {
    let list = children.get(p.ppid);
    if (!list) children.set(p.ppid, (list = []));
    list.push(p);
  }
  const own = new Set<number>();
  if (c.self !== undefined) {
    const q = [c.self];
    own.add(c.self);
    while (q.length) for (const ch of children.get(q.shift()!) ?? []) if (!own.has(ch.pid)) (own.add(ch.pid), q.push(ch.pid));
  }
  const roots: number[] = [];
  for (const p of procs) {
    if (own.has(p.pid)) continue;
    let why: string | null = null;
    if (execRoots.has(p.pid)) why = 'started by winnow exec';
    else if (users.size && ((p.user !== undefined && users.has(p.user)) || (p.uid !== undefined && users.has(String(p.uid))))) {
      why = `owned by autonomous user ${p.user ?? p.uid}`;
    } else {
      const re = matchingCommand(p.cmd || p.name, c.commands);
      if (re) why = `command matches /${re.source}/`;
    }
    if (why) {
      out.set(p.pid, { cmd: p.cmd || p.name, why });
      roots.push(p.pid);
    }
  }
  // Breadth-first over children; `out.has` guards against ppid cycles in a torn snapshot.
  const queue = [...roots];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const child of children.get(pid) ?? []) {
      if (out.has(child.pid) || own.has(child.pid)) continue;
      out.set(child.pid, { cmd: child.cmd || child.name, why: `descendant of autonomous ${pid}` });
      queue.push(child.pid);
    }
  }
  return out;
}

/**
 * Why a writer that is no longer in the process table is autonomous, from the command lines the
 * lineage recorded at exec (its own, then its ancestors', nearest first): a one-shot job (a hook,
 * a cron-run agent) and everything it started can exit before its write is classified. Null when
 * none matches `commands`, or when winnow itself (`self`) is in the chain. Owners and `winnow
 * exec` roots are not recorded there; those need the process alive.
 *
 * @example
 * exitedAutonomous({ command: 'sh -c echo x > f', ancestors: [41, 1], ancestorCommands: ['claude-autonomous job.sh', 'init'] },
 *                  { commands: [/claude-autonomous/] })
 * // → "descendant of exited autonomous 41, command matches /claude-autonomous/"
 */
export function exitedAutonomous(
  w: { command: string; ancestors?: readonly number[]; ancestorCommands?: readonly string[] },
  c: Pick<AutonomousCriteria, 'commands' | 'self'>,
): string | null {
  if (c.self !== undefined && w.ancestors?.includes(c.self)) return null;
  const own = matchingCommand(w.command, c.commands);
  if (own) return `exited autonomous process, command matches /${own.source}/`;
  const cmds = w.ancestorCommands ?? [];
  for (let i = 0; i < cmds.length; i++) {
    const re = matchingCommand(cmds[i]!, c.commands);
    if (re) return `descendant of exited autonomous ${w.ancestors?.[i] ?? '?'}, command matches /${re.source}/`;
  }
  return null;
}

/** The first of `autonomous.commands` that matches the command line `cmd` (empty: none). */
function matchingCommand(cmd: string, commands: readonly RegExp[]): RegExp | undefined {
  return cmd ? commands.find((re) => re.test(cmd)) : undefined;
}

/** One writer seen by fanotify, already looked up in the autonomous set. */
export interface WriterEvidence {
  pid: number;
  command: string;
  autonomous: boolean;
  why?: string;
  /**
   * The writer exited before it could be placed in the process tree (no table entry, no
   * recorded parent chain): it is neither human nor autonomous evidence.
   */
  unknown?: boolean;
}

/** An autonomous process holding the path open right now. */
export interface HandleEvidence {
  pid: number;
  command: string;
  why?: string;
}

/**
 * Write activity of the autonomous set around the change, for temporal correlation.
 * `activeBytes`: what the autonomous processes' write counters moved by between the two samples
 * around the change's write (its mtime). `explainedBytes`: what the other paths written between
 * the same samples account for (their size in pages). Null when no counter could be read.
 */
export interface TemporalEvidence {
  activeBytes: number;
  explainedBytes: number;
  /** Size of this path now (0 when deleted). */
  pathBytes: number;
  /** The processes whose counters moved, for the record. */
  movers: { pid: number; command: string; bytes: number }[];
  /** Width of the interval between the samples around the write. */
  windowMs: number;
}

/** What process tracing (strace) says about one path. */
export interface TraceEvidence {
  /** Traced writes of the path in the window: every traced process is autonomous. */
  writes: { pid: number; call: string; at: number }[];
  /**
   * True when every autonomous process was traced since before the write (and the trace has been
   * read up to the event): a write no traced process made is a person's.
   */
  covered: boolean;
  /** Autonomous processes not traced (why the trace cannot speak for everyone). */
  uncovered: { pid: number; command: string }[];
  /**
   * Autonomous processes that ran untraced when the path was written and were attached to only
   * after (a new agent's first writes): the writer is unknown, never taken for a person.
   */
  late?: { pid: number; command: string; detail: string }[];
}

/** A write an agent declared through `winnow hook`. */
export interface DeclaredEvidence {
  at: number;
  source: string;
}

export interface OwnershipInput {
  /** Writers from the trace; null when no exact trace is active (fanotify off/unavailable). */
  writers: WriterEvidence[] | null;
  /** Process tracing; null or absent when no autonomous process is traced. */
  traced?: TraceEvidence | null;
  /** Declared writes of the path (`winnow hook`); null or absent when none were declared. */
  declared?: DeclaredEvidence[] | null;
  /** Autonomous holders; null when open-handle evidence is not available. */
  handles: HandleEvidence[] | null;
  temporal: TemporalEvidence | null;
  /**
   * Whether an autonomous process was running when the path was written: a writer that exited
   * unidentified is then unknown (held back), never a person.
   */
  autonomousRunning?: boolean;
}

export interface OwnershipResult {
  verdict: 'BLOCK' | 'CONTINUE';
  reason: string;
  evidence: Evidence[];
  /** True when a writer outside the autonomous set is known (lifts churn quarantine). */
  human: boolean;
}

export const PAGE = 4096;

/** The trace-rung evidence of a person's write: every autonomous process traced, none wrote it. */
export const TRACE_COVERED = 'every autonomous process is traced and none wrote it';

/** `/proc/PID/io` write_bytes counts dirtied pages, so explained sizes are rounded up to pages. */
export function pageRound(bytes: number): number {
  return bytes <= 0 ? 0 : Math.ceil(bytes / PAGE) * PAGE;
}

/**
 * Weighs layer-2 evidence, strongest first:
 * 1. fanotify writer autonomous → BLOCK; writer known and not autonomous → human, CONTINUE (and
 *    nothing weaker may override it);
 * 2. an autonomous process holds the file open → BLOCK;
 * 3. temporal correlation → BLOCK only when no writer is known and the autonomous write activity
 *    in the window is not already explained by the other paths that changed in it.
 *
 * Temporal correlation is as sharp as the samples around a write: the classifier samples the
 * counters on every decision that reaches layer 2, so two writes in separate watcher batches
 * (more than ~50–500 ms apart) are told apart. What it cannot tell (documented limits): a person
 * and an agent writing between the same two samples, when the agent's bytes are not all
 * explained by its own files (the person's file is then BLOCKed too — only fanotify tells these
 * apart); an agent writing outside the workspace in that interval (the same); writes that do
 * not move `write_bytes` — rewriting pages still dirty in the page cache in place, without
 * truncating — (under-counted, towards ALLOW; layer 3 still blocks timestamp-only changes);
 * another path's pages over-counting what was written to it, such as an append to a large log
 * (over-explained, towards ALLOW); file-system metadata charged to the writer now and then, so a
 * person's write between the same samples as an agent's new file may be BLOCKed (towards BLOCK;
 * `status` lists such timing-only decisions; measured in docs/benchmarks.md, "Without fanotify").
 */
export function judgeOwnership(input: OwnershipInput): OwnershipResult {
  const evidence: Evidence[] = [];
  for (const w of input.writers ?? []) {
    const detail = w.unknown ? 'exited before it could be identified' : w.why;
    evidence.push({ kind: 'fanotify', pid: w.pid, command: w.command, autonomous: w.autonomous, ...(detail ? { detail } : {}) });
  }
  const known = (input.writers ?? []).filter((w) => !w.unknown);
  if (known.length) {
    const auto = known.filter((w) => w.autonomous);
    const last = known[known.length - 1]!;
    // The last writer decides: an agent rewriting a file a person just saved must not win over
    // the person's content, and vice versa.
    if (last.autonomous) {
      return {
        verdict: 'BLOCK',
        reason: `written by autonomous process ${last.pid} (${shortCmd(last.command)}${last.why ? `; ${last.why}` : ''})`,
        evidence,
        human: false,
      };
    }
    return {
      verdict: 'CONTINUE',
      reason: `written by ${last.pid} (${shortCmd(last.command)}), not autonomous${auto.length ? `; autonomous writers earlier: ${auto.map((a) => a.pid).join(', ')}` : ''}`,
      evidence,
      human: true,
    };
  }
  // Only unidentified writers (or none): the next rung decides. Positive evidence first (a traced
  // write, a declared one, a held handle), then the absence of a traced write where every
  // autonomous process is traced.
  const tr = input.traced;
  if (tr && tr.writes.length) {
    const w = tr.writes[tr.writes.length - 1]!;
    for (const x of tr.writes) evidence.push({ kind: 'trace', pid: x.pid, autonomous: true, detail: `${x.call} traced` });
    return { verdict: 'BLOCK', reason: `written by traced autonomous process ${w.pid} (${w.call})`, evidence, human: false };
  }
  if (input.declared && input.declared.length) {
    const d = input.declared[input.declared.length - 1]!;
    evidence.push({ kind: 'declared', autonomous: true, detail: `declared by ${d.source}` });
    return { verdict: 'BLOCK', reason: `declared as an autonomous write by ${d.source}`, evidence, human: false };
  }
  if (input.handles && input.handles.length) {
    const h = input.handles[0]!;
    for (const x of input.handles) evidence.push({ kind: 'open-handle', pid: x.pid, command: x.command, autonomous: true, ...(x.why ? { detail: x.why } : {}) });
    return {
      verdict: 'BLOCK',
      reason: `held open by autonomous process ${h.pid} (${shortCmd(h.command)})`,
      evidence,
      human: false,
    };
  }
  const unknownWriters = (input.writers ?? []).filter((w) => w.unknown);
  if (unknownWriters.length && input.autonomousRunning) {
    const w = unknownWriters[unknownWriters.length - 1]!;
    evidence.push({ kind: 'unknown', pid: w.pid, autonomous: true, detail: 'the writer exited before its ancestry was known, while autonomous processes ran' });
    return { verdict: 'BLOCK', reason: `written by process ${w.pid} (${shortCmd(w.command)}), which exited before it could be identified, while autonomous processes ran: held back until it changes again (status lists it)`, evidence, human: false };
  }
  if (tr && tr.late && tr.late.length) {
    for (const l of tr.late) evidence.push({ kind: 'unknown', pid: l.pid, command: l.command, autonomous: true, detail: l.detail });
    const l = tr.late[0]!;
    return { verdict: 'BLOCK', reason: `written while autonomous process ${l.pid} (${shortCmd(l.command)}) ran untraced (${l.detail}): the writer is unknown, held back until it changes again (status lists it)`, evidence, human: false };
  }
  if (tr && tr.covered) {
    evidence.push({ kind: 'trace', autonomous: false, detail: TRACE_COVERED });
    return { verdict: 'CONTINUE', reason: 'no traced autonomous process wrote it (every autonomous process is traced)', evidence, human: true };
  }
  if (tr && tr.uncovered.length) {
    evidence.push({ kind: 'trace', autonomous: false, detail: `not traced: ${tr.uncovered.map((u) => u.pid).join(', ')} (the trace cannot speak for them)` });
  }
  const t = input.temporal;
  if (t && t.activeBytes > 0) {
    const unexplained = t.activeBytes - t.explainedBytes;
    const need = Math.max(1, Math.floor(pageRound(t.pathBytes) / 2));
    const pids = t.movers.map((m) => m.pid).join(', ');
    if (unexplained >= need) {
      for (const m of t.movers) evidence.push({ kind: 'temporal', pid: m.pid, command: m.command, autonomous: true, detail: `${m.bytes} bytes written within ${t.windowMs} ms` });
      return {
        verdict: 'BLOCK',
        reason: `autonomous write activity around the write (process ${pids}: ${unexplained} bytes within ${t.windowMs} ms not explained by other changed paths) and no other writer known`,
        evidence,
        human: false,
      };
    }
    evidence.push({ kind: 'temporal', autonomous: false, detail: `autonomous processes ${pids} active, but their ${t.activeBytes} bytes are explained by other changed paths` });
  }
  if (!evidence.some((e) => e.kind !== 'fanotify' && e.kind !== 'trace')) evidence.push({ kind: 'none', autonomous: false, detail: 'no autonomous writer found' });
  return { verdict: 'CONTINUE', reason: 'no autonomous writer found', evidence, human: false };
}

function shortCmd(cmd: string): string {
  return cmd.length > 80 ? cmd.slice(0, 77) + '…' : cmd;
}
