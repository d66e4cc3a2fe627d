import { join, relative, resolve, sep, isAbsolute } from 'node:path';
import { mkdir, realpath } from 'node:fs/promises';
import { UsageError, RuntimeError, type CliIO } from './types.js';
import { messages } from './messages.js';
import type { Workspace } from '../core/workspace.js';
import { readPause, raisePause, dropPause } from '../daemon/lifecycle/pause.js';
import { withLock, LockTimeoutError } from '../daemon/lifecycle/lock-manager.js';
import type { Config } from '../core/config/defaults.js';
import { awaitDaemonHeld, holdBoundMs } from './daemon-hold.js';

/**
 * PATH arguments (relative to the current directory) as workspace-relative posix paths. A path
 * outside the workspace is bad usage. The path need not exist (it may have been deleted since).
 */
export async function workspacePaths(root: string, cwd: string, args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    let abs = resolve(cwd, a);
    // The cwd may be reached through a symlink while root is a real path.
    abs = await realpath(abs).catch(async () => join(await realpath(resolve(abs, '..')).catch(() => resolve(abs, '..')), abs.split(sep).pop()!));
    const rel = relative(root, abs);
    if (rel === '' ) throw new UsageError(messages.pathIsRoot(a));
    if (rel.startsWith('..') || isAbsolute(rel)) throw new UsageError(messages.pathOutside(a, root));
    const p = rel.split(sep).join('/');
    if (p === '.git' || p.startsWith('.git/')) throw new UsageError(messages.pathInGit(a));
    out.push(p);
  }
  return [...new Set(out)];
}

/**
 * Runs `fn` with the daemon held still: the sync lock (no sync moves the branch) and the pause
 * signal (no commit starts), unless someone else already paused it; then, with a daemon running,
 * its answer that a commit it had under way is done, the person's index included (daemon-hold.ts).
 * Without that answer in time, `fn` runs anyway: it moves the branch with a compare-and-swap.
 */
export async function withDaemonHeld<T>(ws: Workspace, config: Config, reason: string, io: Pick<CliIO, 'stderr'>, fn: () => Promise<T>): Promise<T> {
  await mkdir(ws.stateDir, { recursive: true, mode: 0o700 });
  try {
    return await withLock(join(ws.stateDir, 'sync.lock'), { timeoutMs: 30_000, extra: { reason } }, async () => {
      const now = Date.now();
      const existing = await readPause(ws.stateDir, now, config.pause.maxMs).catch(() => null);
      if (!existing) await raisePause(ws.stateDir, { pid: process.pid, at: now, reason, until: now + config.pause.maxMs });
      try {
        const say = (line: string) => io.stderr(`winnow: ${line}\n`);
        await awaitDaemonHeld(ws.stateDir, existing ?? { pid: process.pid, at: now }, { boundMs: holdBoundMs(config), say });
        return await fn();
      } finally {
        if (!existing) await dropPause(ws.stateDir, process.pid).catch(() => undefined);
      }
    });
  } catch (e) {
    if (e instanceof LockTimeoutError) throw new RuntimeError(messages.syncRunning(e.message));
    throw e;
  }
}

/** `2026-12-02 10:31` in local time. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
