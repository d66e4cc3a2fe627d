/**
 * The autonomous processes of layer 2: the process table (cached by the port) matched against
 * `autonomous.commands`/`users` and the `winnow exec` roots (core/classify/ownership.ts decides).
 */
import type { Config } from '../../core/config/defaults.js';
import { autonomousSet, exitedAutonomous, type AutonomousProc } from '../../core/classify/ownership.js';
import type { Logger, ProcInfo, ProcessTable } from '../../ports/index.js';

export interface AutonomousDeps {
  config: Config;
  processes: ProcessTable;
  logger: Logger;
  /** `winnow exec` roots. */
  execRoots(): Promise<number[]>;
  /** winnow's own PID: it and its children are never autonomous. Null: no exclusion. */
  selfPid: number | null;
}

export class AutonomousProcesses {
  private readonly commands: RegExp[];
  private memo: { table: ProcInfo[]; roots: string; set: Map<number, AutonomousProc> } | null = null;
  private readonly warned = new Set<string>();
  /** Why the process table could not be read the last time, or null. */
  psFailed: string | null = null;

  constructor(private readonly deps: AutonomousDeps) {
    this.commands = deps.config.autonomous.commands.map((c) => new RegExp(c));
  }

  private warnOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.deps.logger.log('warn', msg, fields);
  }

  /**
   * Starts reading the process table if its snapshot has expired, without waiting: called as soon
   * as a batch has a path for layer 2, so the `ps` runs (~70 ms at load 3) overlap layer 1's
   * check-ignore instead of following it. Passed to `current()` of the same batch, which uses it
   * (its errors are handled there).
   */
  prefetch(): Promise<ProcInfo[]> {
    const read = this.deps.processes.list();
    read.catch(() => undefined);
    return read;
  }

  /** Why a writer gone from the table is autonomous by the command lines recorded at exec (its own, its ancestors'); null if not. */
  exited(w: { command: string; ancestors?: readonly number[]; ancestorCommands?: readonly string[] }): string | null {
    const { selfPid } = this.deps;
    return exitedAutonomous(w, { commands: this.commands, ...(selfPid !== null ? { self: selfPid } : {}) });
  }

  /** The last process table read (for writers that are not autonomous). */
  table(): ProcInfo[] | undefined {
    return this.memo?.table;
  }

  /**
   * The autonomous set now. `force`: re-read the table; `fresh`: the cached table plus processes
   * started since (the port's `fresh`); `'stale'`: the same without ever spawning `ps` (a poll).
   */
  async current(force: boolean, fresh: boolean | 'stale' = false, rootsHint?: number[], prefetched?: Promise<ProcInfo[]>): Promise<Map<number, AutonomousProc>> {
    const { processes } = this.deps;
    let roots: number[] = rootsHint ?? [];
    if (!rootsHint) {
      try {
        roots = await this.deps.execRoots();
      } catch (e) {
        this.warnOnce('exec', 'cannot read winnow exec registrations', { error: String(e) });
      }
    }
    let table: ProcInfo[];
    try {
      // A prefetched read of this batch is the snapshot `fresh` extends (the adapter's cache).
      if (prefetched && fresh && processes.fresh) await prefetched;
      table =
        force && processes.refresh
          ? await processes.refresh()
          : fresh && processes.fresh
            ? await processes.fresh(fresh === 'stale' ? { stale: true } : undefined)
            : await (prefetched ?? processes.list());
      // A `winnow exec` root the cached table does not know started after it was taken.
      if (!force && fresh !== 'stale' && processes.refresh && roots.some((r) => !table.some((p) => p.pid === r))) {
        table = await processes.refresh();
      }
      this.psFailed = null;
    } catch (e) {
      this.psFailed = `process table unavailable: ${(e as Error).message}`;
      this.warnOnce('ps', 'process table unavailable; layer 2 sees only fanotify writers', { error: String(e) });
      table = this.memo?.table ?? [];
    }
    const key = roots.join(',');
    if (this.memo && this.memo.table === table && this.memo.roots === key) return this.memo.set;
    const { selfPid, config } = this.deps;
    const set = autonomousSet(table, { commands: this.commands, users: config.autonomous.users, execRoots: roots, ...(selfPid !== null ? { self: selfPid } : {}) });
    this.memo = { table, roots: key, set };
    return set;
  }
}
