import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandSpec, CliIO } from '../types.js';
import { RuntimeError, UsageError } from '../types.js';
import { messages } from '../messages.js';
import { resolveWorkspace, type Workspace } from '../../adapters/workspace.js';
import { loadWorkspaceConfig } from '../../adapters/config-file.js';
import { createGitRunner } from '../../adapters/git.js';
import { readLock, isStale } from '../../daemon/lifecycle/lock.js';
import { createSyncer, writeSyncRequest, readSyncResult } from '../../daemon/sync/syncer.js';
import type { Config } from '../../core/config/defaults.js';
import { readState } from '../daemon-info.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';

/** Re-reads (100 ms apart) of a config file that is missing while a daemon runs. */
const CONFIG_REREADS = 10;

/** How long `winnow sync` waits for a running daemon's answer (a sync includes network calls). */
const DAEMON_ANSWER_MS = 15 * 60_000;

export const command: CommandSpec = {
  name: 'sync',
  summary: 'sync with the remote now: snapshot, commit pending, replay onto the remote tip (merge-tree), push',
  usage: 'sync [DIR] [--force] [--reason TEXT] [--config FILE] [--json]',
  options: {
    ...DIR_OPTION,
    force: { type: 'boolean' },
    reason: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    dir: DIR_HELP,
    force: 'run even while paused, the breaker is open or syncing is stopped on conflicts',
    reason: 'recorded in the sync audit log (default "winnow sync")',
    config: 'config file instead of DIR/.winnow.json',
    json: 'print {"ok","message"} on stdout',
  },
  details:
    'With a daemon running, the request goes to it (<git-dir>/winnow/sync-request) and this waits for its answer.\n' +
    'Without one, the sync runs here and syncs only what is committed. The audit log is <git-dir>/winnow/sync.log.',
  async run(args, io) {
    const ws = await resolveWorkspace(workspaceDir(command, args, args.positionals), io.cwd);
    const configArg = args.values.config as string | undefined;
    let { config, configFile } = loadWorkspaceConfig(ws.root, configArg);
    const lock = await readLock(join(ws.stateDir, 'daemon.lock'));
    const daemon = lock && !isStale(lock) ? lock : null;
    // A running daemon syncs with the config it started with, and its state says whether it has
    // a remote. A pull it is making may also be replacing .winnow.json right now (git unlinks the
    // file, then writes it): without the state, look again for a moment.
    let daemonSyncs = false;
    const state = daemon ? await readState(ws.stateDir) : null;
    const daemonState = state !== null && daemon !== null && state.pid === daemon.pid ? state : null;
    if (!config.remote && daemon) {
      daemonSyncs = daemonState !== null && daemonState.sync !== undefined;
      for (let i = 0; !daemonSyncs && configFile === null && i < CONFIG_REREADS; i++) {
        await sleep(100);
        ({ config, configFile } = loadWorkspaceConfig(ws.root, configArg));
      }
    }
    if (!config.remote && !daemonSyncs) {
      throw new UsageError(
        `no remote is configured${configFile ? ` in ${configFile}` : ` (no ${join(ws.root, '.winnow.json')})`}. Add "remote": {"name": "origin"} to the config to sync with the git remote "origin".`,
      );
    }
    if (daemonState && daemonState.sync === null) {
      throw new UsageError(
        `the running daemon (PID ${daemon!.pid}) started without a remote, so it does not sync. Restart it (\`winnow stop\`, then \`winnow start\`) to use the remote in the config.`,
      );
    }
    const reason = (args.values.reason as string | undefined) ?? 'winnow sync';
    const force = Boolean(args.values.force);
    const res = daemon ? await viaDaemon(ws, daemon.pid, reason, force) : await inProcess(ws, config, reason, force);
    print(io, res, Boolean(args.values.json));
    return res.ok ? 0 : 1;
  },
};

function print(io: CliIO, res: { ok: boolean; message: string }, json: boolean): void {
  if (json) io.stdout(JSON.stringify(res) + '\n');
  else io.stderr(`winnow: ${res.message}\n`);
}

async function viaDaemon(ws: Workspace, pid: number, reason: string, force: boolean): Promise<{ ok: boolean; message: string }> {
  const at = Date.now();
  await writeSyncRequest(ws.stateDir, { reason, force, at });
  const deadline = at + DAEMON_ANSWER_MS;
  // The CLI is a short-lived waiter; polling the result file is simpler than a watcher here.
  while (Date.now() < deadline) {
    const r = await readSyncResult(ws.stateDir);
    if (r && r.requestAt === at) return { ok: r.ok, message: r.message };
    const lock = await readLock(join(ws.stateDir, 'daemon.lock'));
    if (!lock || isStale(lock)) throw new RuntimeError(messages.daemonStoppedBeforeSync(pid));
    await sleep(100);
  }
  throw new RuntimeError(messages.daemonSyncTimeout(pid, DAEMON_ANSWER_MS / 60_000, join(ws.stateDir, 'sync.log')));
}

async function inProcess(ws: Workspace, config: Config, reason: string, force: boolean): Promise<{ ok: boolean; message: string }> {
  const syncer = createSyncer({
    root: ws.root,
    gitDir: ws.gitDir,
    stateDir: ws.stateDir,
    config,
    clock: { now: () => Date.now() },
    scheduler: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    logger: { log() {} },
    hostname: hostname(),
    git: createGitRunner(ws.root, { timeoutMs: config.commit.timeoutMs }),
    // Without a daemon there is nothing accepted and pending: only committed work is synced.
    commitPending: async () => undefined,
    syncOnStart: false,
    syncOnExit: false,
  });
  try {
    return await syncer.request({ reason, priority: 'manual', force });
  } finally {
    await syncer.close();
  }
}
