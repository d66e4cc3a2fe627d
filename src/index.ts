/**
 * The programmatic API: `createWinnow()` wires the real adapters into the service.
 *
 * @example
 * ```ts
 * import { createWinnow } from 'winnow';
 * const w = await createWinnow({ dir: '/home/me/notes' });
 * await w.service.start();
 * // … later
 * await w.close();
 * ```
 */
import { watch, type FSWatcher } from 'node:fs';
import { resolveWorkspace, type Workspace } from './adapters/workspace.js';
import { createService, type Service } from './daemon/service.js';
import { loadWorkspaceConfig } from './adapters/config-file.js';
import { createGit } from './adapters/git.js';
import { runMessageCommand } from './adapters/message-command.js';
import { createWatcher, watcherKind } from './adapters/watchers.js';
import { createProcessTable } from './adapters/process-table.js';
import { createPersonGitCheck } from './adapters/git-processes.js';
import { createProcProbe } from './adapters/proc-probe.js';
import { createFatraceTrace, TraceUnavailableError } from './adapters/fatrace.js';
import { createLineage, type Lineage } from './adapters/forkstat.js';
import { createProcessTracer } from './adapters/strace.js';
import { nodeFs } from './adapters/node-fs.js';
import { systemClock } from './adapters/system-clock.js';
import { createJsonLogger } from './adapters/json-logger.js';
import type { Config } from './core/config/defaults.js';
import type { RuleSet } from './core/classify/rules.js';
import type { Clock, Git, Logger, Scheduler, WriterTrace } from './ports/index.js';
import { join, resolve as resolvePath } from 'node:path';
import { hostname } from 'node:os';
import { createRegistry } from './daemon/lifecycle/registry.js';
import { startEvidence } from './daemon/lifecycle/evidence-start.js';
import { mkdir } from 'node:fs/promises';

export type { Decision } from './core/decision.js';
export type { Config } from './core/config/defaults.js';
export { DEFAULTS } from './core/config/defaults.js';

export interface WinnowOptions {
  /** Workspace directory (default: cwd). */
  dir?: string;
  cwd?: string;
  /** Config file (default: `.winnow.json` at the workspace root). */
  configPath?: string;
  /** Echo log lines, one or more whole lines per call (the foreground daemon passes stderr). */
  echo?: (lines: string) => void;
  /** Do not write the log file (filter commands). */
  noLogFile?: boolean;
  /** Classify only, never commit. */
  dryRun?: boolean;
  /** Called when the service cannot go on (workspace vanished). */
  onFatal?: (message: string) => void;
  /** Start the fanotify trace (needs root or CAP_SYS_ADMIN). Default: per `autonomous.fanotify`. */
  trace?: boolean;
  clock?: Clock & Scheduler;
  /** The workspace and config as `loadWorkspace` already returned them (`winnow start` validates first): not resolved again. */
  loaded?: LoadedWorkspace;
}

export interface Winnow {
  workspace: Workspace;
  config: Config;
  rules: RuleSet;
  configFile: string | null;
  git: Git;
  logger: Logger;
  trace: WriterTrace | null;
  service: Service;
  close(): Promise<void>;
}

export type LoadedWorkspace = Awaited<ReturnType<typeof loadWorkspace>>;

/** Resolves the workspace and loads its config; throws WorkspaceError / ConfigError (exit 2). */
export async function loadWorkspace(dir: string | undefined, cwd: string, configPath?: string) {
  const workspace = await resolveWorkspace(dir, cwd);
  const loaded = loadWorkspaceConfig(workspace.root, configPath === undefined ? undefined : resolvePath(cwd, configPath));
  return { workspace, ...loaded };
}

function openGit(workspace: Workspace, config: Config, logger: Logger, commits = false): Promise<Git> {
  return createGit(workspace.root, {
    gitDir: workspace.gitDir,
    stateDir: workspace.stateDir,
    timeoutMs: config.commit.timeoutMs,
    hooks: config.commit.hooks,
    logger,
    commits,
  });
}

export async function createWinnow(opts: WinnowOptions = {}): Promise<Winnow> {
  const cwd = opts.cwd ?? process.cwd();
  const { workspace, config, rules, configFile } = opts.loaded ?? (await loadWorkspace(opts.dir, cwd, opts.configPath));
  const clock = opts.clock ?? systemClock;
  // A WINNOW_WATCHER it does not know stops here, before anything is made (exit 2).
  const kind = watcherKind();
  if (!opts.noLogFile) await mkdir(workspace.stateDir, { recursive: true, mode: 0o700 });
  const logger = createJsonLogger({
    file: opts.noLogFile ? undefined : join(workspace.stateDir, 'winnow.log'),
    echo: opts.echo,
    now: () => clock.now(),
  });
  const git = await openGit(workspace, config, logger, !opts.dryRun);
  const wantTrace = opts.trace ?? config.autonomous.fanotify !== 'off';
  // Process lineage (forkstat) resolves fanotify's writers that exited before they were looked
  // up; it needs the same privilege, so it runs only beside an active fanotify trace.
  const lineage: Lineage | null = wantTrace && process.platform === 'linux' && process.getuid?.() === 0 ? createLineage({ logger }) : null;
  const trace = wantTrace
    ? createFatraceTrace({
        root: workspace.root,
        stateDir: workspace.stateDir,
        mode: config.autonomous.fanotify,
        logger,
        clock,
        ...(lineage ? { lineage } : {}),
      })
    : null;
  // Process tracing (rung 2) and declared writes (rung 3): the store always reads what
  // `winnow exec` and `winnow hook` file; attaching follows autonomous.trace.
  const tracer = createProcessTracer({ root: workspace.root, stateDir: workspace.stateDir, clock, logger });
  if (config.autonomous.trace === 'on') {
    const av = tracer.available();
    if (!av.ok) {
      throw new TraceUnavailableError(`autonomous.trace is "on" but process tracing cannot run: ${av.reason}. Install strace, or set "autonomous.trace" to "auto" or "off" in .winnow.json.`);
    }
  }
  let stateWatcher: FSWatcher | null = null;
  const watcher = await createWatcher(workspace.root, clock, kind);
  const service = createService({
    workspace,
    config,
    rules,
    configFile,
    clock,
    scheduler: clock,
    logger,
    fs: nodeFs,
    git,
    watcher,
    processes: createProcessTable({ ttlMs: config.autonomous.cacheTtlMs }),
    trace,
    tracer,
    lineage,
    // fatrace and forkstat start beside daemon.lock, before the watcher is subscribed (service.start).
    startEvidence: () => startEvidence(trace, lineage, logger),
    probe: createProcProbe(workspace.root),
    personGit: createPersonGitCheck(workspace.root, workspace.gitDir),
    dryRun: opts.dryRun,
    messageCommand: runMessageCommand,
    hostname: hostname(),
    registry: opts.dryRun ? null : createRegistry(),
    onFatal: opts.onFatal,
    watchStateDir: (onChange) => {
      try {
        stateWatcher = watch(workspace.stateDir, { persistent: false }, (_ev, name) => onChange(String(name ?? '')));
        stateWatcher.on('error', () => undefined);
      } catch {
        return () => undefined;
      }
      return () => stateWatcher?.close();
    },
  });
  return {
    workspace,
    config,
    rules,
    configFile,
    git,
    logger,
    trace,
    service,
    async close() {
      await service.stop();
      await trace?.stop();
      await tracer.stop();
      await lineage?.stop();
      await git.close();
    },
  };
}

/**
 * A classifier over the real adapters, without watcher or committer: `filter test`.
 * Layer 2 sees the process table and open handles now; who wrote a file in the past is only
 * known to a running daemon's fanotify trace.
 */
export async function createFilter(opts: { dir?: string; cwd?: string; configPath?: string }) {
  const cwd = opts.cwd ?? process.cwd();
  const { workspace, config, rules, configFile } = await loadWorkspace(opts.dir, cwd, opts.configPath);
  const { createClassifier } = await import('./daemon/classify/classifier.js');
  const { createJsonLogger: mk } = await import('./adapters/json-logger.js');
  const logger = mk({});
  const git = await openGit(workspace, config, logger);
  const classifier = createClassifier({
    root: workspace.root,
    stateDir: workspace.stateDir,
    config,
    rules,
    git,
    fs: nodeFs,
    clock: systemClock,
    logger,
    processes: createProcessTable({ ttlMs: config.autonomous.cacheTtlMs }),
    trace: null,
    probe: createProcProbe(workspace.root),
  });
  return {
    workspace,
    config,
    configFile,
    classifier,
    async close() {
      await classifier.close();
      await git.close();
    },
  };
}
