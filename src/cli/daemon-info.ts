import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLock, isStale, type LockInfo } from '../daemon/lifecycle/lock.js';

/** Who holds the workspace's daemon lock, if anyone alive does. */
export async function runningDaemon(stateDir: string): Promise<LockInfo | null> {
  const info = await readLock(join(stateDir, 'daemon.lock'));
  return info && !isStale(info) ? info : null;
}

/** The daemon's last written state.json, or null. */
export async function readState(stateDir: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}
