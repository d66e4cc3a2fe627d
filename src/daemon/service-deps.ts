/**
 * What the daemon is given (createService): the workspace, its config and rules, and every port
 * (clock, scheduler, logger, file system, git, watcher, process table, writer trace, tracer,
 * /proc probe). The daemon does no I/O except through these.
 */
import type { Config } from '../core/config/defaults.js';
import type { RuleSet } from '../core/classify/rules.js';
import type { Workspace } from '../core/workspace.js';
import type { Clock, Fs, Git, Logger, MessageCommand, ProcProbe, ProcessTable, ProcessTracer, Scheduler, Watcher, WriterTrace } from '../ports/index.js';
import type { Registry } from './lifecycle/registry.js';

export interface ServiceDeps {
  /** Runs `commit.messageCommand` (adapters/message-command.ts). */
  messageCommand?: MessageCommand;
  workspace: Workspace;
  /** A git command of the person's running in the repository, or null (committer waits for it). */
  personGit?: () => Promise<{ pid: number; command: string } | null>;
  config: Config;
  rules: RuleSet;
  configFile: string | null;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  fs: Fs;
  git: Git;
  watcher: Watcher;
  processes: ProcessTable;
  trace: WriterTrace | null;
  /** Process tracing and declared writes (evidence rungs 2 and 3); null: neither. */
  tracer?: ProcessTracer | null;
  /** Process lineage beside fanotify (forkstat): whether it is active. */
  lineage?: { active(): boolean } | null;
  /**
   * Starts the writer evidence (fanotify trace, process lineage): run beside taking daemon.lock,
   * and done before the watcher is subscribed. Rejects when a trace that must run cannot.
   */
  startEvidence?: () => Promise<void>;
  probe: ProcProbe;
  /** Watches the state dir (pause signal, sync requests); returns a closer. */
  watchStateDir?: (onChange: (name: string) => void) => () => void;
  /** Classify and report, never commit (`filter debug` without a running daemon). */
  dryRun?: boolean;
  /** This machine's name, for conflict copies (`NAME.conflict-HOST-DATE.EXT`). */
  hostname?: string;
  /** The global registry of workspaces (`winnow status --all`); none in tests unless given. */
  registry?: Registry | null;
  /**
   * Something the service cannot continue from (the workspace root vanished): the shell stops
   * the service and exits 1.
   */
  onFatal?: (message: string) => void;
}
