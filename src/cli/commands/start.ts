import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CommandSpec, CliIO } from '../types.js';
import { RuntimeError } from '../types.js';
import { loadWorkspace, type LoadedWorkspace } from '../../index.js';
import { AlreadyRunningError } from '../../daemon/service.js';
import { formatLogLine } from '../format.js';
import { messages } from '../messages.js';
import { runningDaemon } from '../daemon-info.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';
import { DAEMON_NODE_FLAGS } from '../daemon-flags.js';

const BIN = fileURLToPath(new URL('../../../bin/winnow.js', import.meta.url));

export const command: CommandSpec = {
  name: 'start',
  summary: 'Run the service on a workspace: watch, classify, settle, commit. Foreground unless --daemon.',
  usage: 'start [DIR] [--config FILE] [--daemon] [--json]',
  options: {
    ...DIR_OPTION,
    config: { type: 'string', short: 'c' },
    daemon: { type: 'boolean', short: 'd' },
    quiet: { type: 'boolean', short: 'q' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    dir: DIR_HELP,
    config: 'config file (default: DIR/.winnow.json)',
    daemon: 'detach; log to <git-dir>/winnow/winnow.log',
    quiet: 'foreground: do not echo log lines to stderr',
    json: 'foreground: echo the JSON log lines (the default when stderr is not a terminal)',
  },
  details:
    'SIGTERM or Ctrl-C finishes the commit in flight and exits 0; accepted changes not yet\n' +
    'committed are kept in the state dir and committed after the next start.',
  async run(args, io) {
    const dir = workspaceDir(command, args, args.positionals);
    const configPath = args.values.config as string | undefined;
    // Validate everything before detaching, so bad input fails here with exit 2.
    const loaded = await loadWorkspace(dir, io.cwd, configPath);
    const { workspace } = loaded;
    const holder = await runningDaemon(workspace.stateDir);
    if (holder) throw new RuntimeError(messages.alreadyRunning(workspace.root, holder.pid, holder.takenAt));
    if (args.values.daemon) return detach(workspace.root, configPath, io);
    const echo = args.values.quiet ? undefined : io.isTTY && !args.values.json ? (lines: string) => io.stderr(lines.split(/(?<=\n)/).map(formatLogLine).join('')) : (lines: string) => io.stderr(lines);
    return foreground(loaded, configPath, io, echo);
  },
};

async function foreground(loaded: LoadedWorkspace, configPath: string | undefined, io: CliIO, echo: ((lines: string) => void) | undefined): Promise<number> {
  const { createWinnow } = await import('../../index.js');
  const root = loaded.workspace.root;
  let fatal: ((msg: string) => void) | null = null;
  const w = await createWinnow({
    dir: root,
    cwd: io.cwd,
    configPath,
    loaded,
    echo,
    onFatal: (msg) => fatal?.(msg),
  });
  // The event loop is held by this promise's interval until a signal arrives; it never polls.
  let keepAlive: NodeJS.Timeout | null = setInterval(() => undefined, 1 << 30);
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    w.logger.log('info', 'stopping', { signal: sig });
    w.close().then(
      () => resolveDone(0),
      (e: Error) => {
        w.logger.log('error', 'stop failed', { error: e.message });
        resolveDone(1);
      },
    );
  };
  fatal = (msg) => {
    if (stopping) return;
    stopping = true;
    io.stderr(`winnow: ${msg}\n`);
    w.close().then(
      () => resolveDone(1),
      () => resolveDone(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    await w.service.start();
  } catch (e) {
    clearInterval(keepAlive);
    await w.close().catch(() => undefined);
    if (e instanceof AlreadyRunningError) throw new RuntimeError(messages.alreadyRunning(root, e.holder.pid, e.holder.takenAt));
    throw e;
  }
  if (process.send) process.send({ ready: true, pid: process.pid });
  const code = await done;
  if (keepAlive) clearInterval(keepAlive);
  keepAlive = null;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onSignal);
  return code;
}

/** Starts a detached copy of the foreground service and waits for it to say it is ready. */
async function detach(root: string, configPath: string | undefined, io: CliIO): Promise<number> {
  const argv = [BIN, 'start', root, '--quiet', ...(configPath ? ['--config', configPath] : [])];
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ...argv], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env: io.env,
  });
  const result = await new Promise<{ ok: boolean; message: string }>((resolve) => {
    child.once('message', (m: { ready?: boolean; pid?: number }) => resolve({ ok: Boolean(m?.ready), message: `pid ${m?.pid}` }));
    child.once('exit', (code) => resolve({ ok: false, message: `exited with code ${code} before it was ready; see <git-dir>/winnow/winnow.log` }));
    child.once('error', (e) => resolve({ ok: false, message: e.message }));
  });
  if (child.connected) child.disconnect();
  child.unref();
  if (!result.ok) throw new RuntimeError(messages.detachFailed(result.message));
  io.stderr(`winnow: ${messages.detached(root, result.message)}\n`);
  return 0;
}
