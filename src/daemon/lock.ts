import { open, readFile, unlink, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What a lock file holds: who owns it, and enough to tell a reused PID from the owner. */
export interface LockInfo {
  pid: number;
  /** Process start time (`/proc/PID/stat` field 22, clock ticks since boot) or null off Linux. */
  startTime: string | null;
  /** ISO time the lock was taken. */
  takenAt: string;
  [extra: string]: unknown;
}

/** Start time of a process as recorded in /proc, or null when unknown (not Linux, no access, gone). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null; // field 22 overall = index 19 after pid, comm
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the lock's owner is gone, or its PID now belongs to another process. */
export function isStale(info: LockInfo): boolean {
  if (!isAlive(info.pid)) return true;
  if (info.startTime === null) return false;
  const now = processStartTime(info.pid);
  return now !== null && now !== info.startTime;
}

export async function readLock(file: string): Promise<LockInfo | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as LockInfo;
    if (typeof parsed.pid !== 'number') return null;
    return parsed;
  } catch {
    return null;
  }
}

export type AcquireResult = { ok: true; info: LockInfo } | { ok: false; holder: LockInfo };

/**
 * Takes a lock file by exclusive create (mode 0600). A stale lock (owner gone or PID reused) or an
 * unreadable one older than a write is replaced; a live one is reported.
 */
export async function tryAcquireLock(file: string, extra: Record<string, unknown> = {}, now = Date.now()): Promise<AcquireResult> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const info: LockInfo = { pid: process.pid, startTime: processStartTime(process.pid), takenAt: new Date(now).toISOString(), ...extra };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify(info) + '\n');
        await fh.sync();
      } finally {
        await fh.close();
      }
      return { ok: true, info };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readLock(file);
    if (holder && !isStale(holder)) return { ok: false, holder };
    // Stale or torn (a writer killed between create and write): remove only if still that file.
    const again = await readLock(file);
    if (JSON.stringify(again) === JSON.stringify(holder)) await unlink(file).catch(() => undefined);
  }
  const holder = await readLock(file);
  return holder ? { ok: false, holder } : { ok: false, holder: { pid: -1, startTime: null, takenAt: '' } };
}

/** Removes the lock if this process owns it. */
export async function releaseLock(file: string): Promise<void> {
  const holder = await readLock(file);
  if (holder && holder.pid === process.pid) await unlink(file).catch(() => undefined);
}
