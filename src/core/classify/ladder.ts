/**
 * The evidence ladder (SPEC "Layer 2: who wrote it"): which kind of evidence covers each
 * autonomous process, strongest first, and what would move it up a rung. Pure: the daemon and
 * `doctor` gather the facts; `status`, `doctor` and `filter debug` print the answer.
 *
 * 1. `fanotify`  — fanotify names the writer of each path, process lineage resolves writers that
 *                  already exited (root or CAP_SYS_ADMIN);
 * 2. `trace`     — the process is traced with strace (started by `winnow exec`, or attached);
 * 3. `declared`  — its writes are declared (`winnow exec` without tracing, `winnow hook`);
 * 4. `heuristic` — open handles and write counters only: unsure decisions are held visibly
 *                  ("timing only"), never quarantined.
 */

export type Rung = 'fanotify' | 'trace' | 'declared' | 'heuristic';

export const RUNGS: readonly Rung[] = ['fanotify', 'trace', 'declared', 'heuristic'];

export const RUNG_LABEL: Record<Rung, string> = {
  fanotify: 'fanotify + lineage (exact)',
  trace: 'process tracing (exact)',
  declared: 'declared writes',
  heuristic: 'heuristics (timing only)',
};

/** What is known about one autonomous process and the machine, for its rung. */
export interface RungFacts {
  /** fanotify trace active (root / CAP_SYS_ADMIN). */
  fanotify: boolean;
  /** Process lineage (forkstat) active: exited writers resolve. */
  lineage: boolean;
  /** The process is traced by one of winnow's tracers (its TracerPid). */
  traced: boolean;
  /** The process descends from a `winnow exec` root, or its agent declares writes (`winnow hook`). */
  declared: boolean;
  /** Why the process is not traced, when it is not (ptrace refused, another user's, strace missing…). */
  untracedReason?: string;
}

export function rungOf(f: RungFacts): Rung {
  if (f.fanotify && f.lineage) return 'fanotify';
  if (f.traced) return 'trace';
  if (f.fanotify) return 'fanotify'; // without lineage, a reaped writer is unknown: still exact for the rest
  if (f.declared) return 'declared';
  return 'heuristic';
}

/**
 * One sentence a person can act on to move a process up, or null at the top.
 *
 * @example
 * moveUp('heuristic', {fanotify: false, lineage: false, traced: false, declared: false})
 * // → 'run your agent under `winnow exec -- CMD` (it is then traced), or …'
 */
export function moveUp(rung: Rung, f: RungFacts): string | null {
  switch (rung) {
    case 'fanotify':
      return f.lineage ? null : 'install forkstat (apt install forkstat) so that writers that exit at once are still resolved';
    case 'trace':
      return 'run winnow as root (or with CAP_SYS_ADMIN) for fanotify, which costs the agent nothing';
    case 'declared':
      return `install strace (apt install strace) or allow ptrace${f.untracedReason ? ` (${f.untracedReason})` : ''}, so that its writes are traced, not only declared`;
    case 'heuristic':
      return `run your agent under \`winnow exec -- CMD\` (it is then traced)${f.untracedReason ? `; it is not traced now: ${f.untracedReason}` : ''}, or declare its writes with \`winnow hook\` from its own hooks`;
  }
}

/** Per autonomous process, as `status --json` (`evidence.processes`) and `doctor` show it. */
export interface ProcessRung {
  pid: number;
  command: string;
  /** Why it is autonomous. */
  why: string;
  rung: Rung;
  /** How to move it up, or absent at the top. */
  advice?: string;
}

/** The weakest rung among the processes (what a decision can rely on), or null with none. */
export function weakest(list: readonly { rung: Rung }[]): Rung | null {
  let worst = -1;
  for (const p of list) worst = Math.max(worst, RUNGS.indexOf(p.rung));
  return worst < 0 ? null : RUNGS[worst]!;
}
