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
  const roots: number[] = [];
  for (const p of procs) {
    let why: string | null = null;
    if (execRoots.has(p.pid)) why = 'started by winnow exec';
    else if (users.size && ((p.user !== undefined && users.has(p.user)) || (p.uid !== undefined && users.has(String(p.uid))))) {
      why = `owned by autonomous user ${p.user ?? p.uid}`;
    } else {
      const cmd = p.cmd || p.name;
      for (const re of c.commands) {
        if (re.test(cmd)) {
          why = `command matches /${re.source}/`;
          break;
        }
      }
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
      if (out.has(child.pid)) continue;
      out.set(child.pid, { cmd: child.cmd || child.name, why: `descendant of autonomous ${pid}` });
      queue.push(child.pid);
    }
  }
  return out;
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
 * `activeBytes`: bytes the autonomous processes wrote in the window (sum of write-counter
 * deltas). `explainedBytes`: what the other paths that changed in the same window account for
 * (see `explainableBytes`). Null when no counter could be read.
 */
export interface TemporalEvidence {
  activeBytes: number;
  explainedBytes: number;
  /** Size of this path now (0 when deleted). */
  pathBytes: number;
  /** The processes whose counters moved, for the record. */
  movers: { pid: number; command: string; bytes: number }[];
  windowMs: number;
}

export interface OwnershipInput {
  /** Writers from the trace; null when no exact trace is active (fanotify off/unavailable). */
  writers: WriterEvidence[] | null;
  /** Autonomous holders; null when open-handle evidence is not available. */
  handles: HandleEvidence[] | null;
  temporal: TemporalEvidence | null;
}

export interface OwnershipResult {
  verdict: 'BLOCK' | 'CONTINUE';
  reason: string;
  evidence: Evidence[];
  /** True when a writer outside the autonomous set is known (lifts churn quarantine). */
  human: boolean;
}

export const PAGE = 4096;

/** `/proc/PID/io` write_bytes counts dirtied pages, so explained sizes are rounded up to pages. */
export function pageRound(bytes: number): number {
  return bytes <= 0 ? 0 : Math.ceil(bytes / PAGE) * PAGE;
}

/**
 * What one changed file can account for in an autonomous process's write_bytes: its pages, plus
 * one page for the directory block that creating or renaming it may dirty (seen on ext4: an
 * `open(O_CREAT)` alone sometimes counts 4096).
 */
export function explainableBytes(size: number): number {
  return pageRound(size) + PAGE;
}

/**
 * Weighs layer-2 evidence, strongest first:
 * 1. fanotify writer autonomous → BLOCK; writer known and not autonomous → human, CONTINUE (and
 *    nothing weaker may override it);
 * 2. an autonomous process holds the file open → BLOCK;
 * 3. temporal correlation → BLOCK only when no writer is known and the autonomous write activity
 *    in the window is not already explained by the other paths that changed in it.
 *
 * Temporal correlation cannot tell (documented limits, all leaning towards ALLOW or BLOCK as
 * noted): a person and an agent writing at the same moment with the agent's bytes ≤ the person's
 * (the agent's file is then not blocked here — ALLOW unless layer 3 blocks it); writes by an
 * autonomous child that has exited but not yet been reaped by its parent (a reaped child's I/O
 * is added to the parent's counters, so only that short gap is missed — ALLOW); an agent writing
 * outside the workspace at the same moment a person saves (counted as unexplained — the person's
 * edit is BLOCKed at layer 2; only fanotify tells these apart); rewrites of pages still dirty in
 * the page cache, which write_bytes does not count again (under-counted — ALLOW).
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
  // Only unidentified writers (or none): the weaker evidence decides.
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
  const t = input.temporal;
  if (t && t.activeBytes > 0) {
    const unexplained = t.activeBytes - t.explainedBytes;
    const need = Math.max(1, Math.floor(pageRound(t.pathBytes) / 2));
    const pids = t.movers.map((m) => m.pid).join(', ');
    if (unexplained >= need) {
      for (const m of t.movers) evidence.push({ kind: 'temporal', pid: m.pid, command: m.command, autonomous: true, detail: `${m.bytes} bytes written within ${t.windowMs} ms` });
      return {
        verdict: 'BLOCK',
        reason: `autonomous write activity within ${t.windowMs} ms (process ${pids}: ${unexplained} bytes not explained by other changed paths) and no other writer known`,
        evidence,
        human: false,
      };
    }
    evidence.push({ kind: 'temporal', autonomous: false, detail: `autonomous processes ${pids} active, but their ${t.activeBytes} bytes are explained by other changed paths` });
  }
  if (!evidence.some((e) => e.kind !== 'fanotify')) evidence.push({ kind: 'none', autonomous: false, detail: 'no autonomous writer found' });
  return { verdict: 'CONTINUE', reason: 'no autonomous writer found', evidence, human: false };
}

function shortCmd(cmd: string): string {
  return cmd.length > 80 ? cmd.slice(0, 77) + '…' : cmd;
}
