import { readFile, unlink, mkdir, link, lstat, stat } from 'node:fs/promises';
import { tempSuffix, writeNew } from '../../util/atomic-write.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { processStartTime } from '../../util/procfs.js';
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

/** A process's start time (util/procfs.ts): with its PID it names one process. */
export { processStartTime };

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

/** `winnow start` on a workspace whose daemon.lock a live process holds. */
export class AlreadyRunningError extends Error {
  override name = 'AlreadyRunningError';
  constructor(readonly holder: LockInfo, root: string) {
    super(`winnow is already running on ${root} (pid ${holder.pid}, since ${holder.takenAt}). Stop it with \`winnow stop\` first.`);
  }
}

export type AcquireResult = { ok: true; info: LockInfo } | { ok: false; holder: LockInfo };

/**
 * Creates `file` holding `text`, or fails with EEXIST, atomically: the text is written to a
 * private temporary file first and hard-linked into place, so no process ever reads a lock file
 * that exists but is still empty (with `open(…, 'wx')` and a write after it, a second process
 * could take a fresh lock for torn and remove it).
 */
async function createWhole(file: string, text: string): Promise<boolean> {
  const tmp = `${file}.${tempSuffix()}.tmp`;
  await writeNew(tmp, text);
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // File systems without hard links: an exclusive create, then the write (torn for a moment).
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return createThenWrite(file, text);
    throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function createThenWrite(file: string, text: string): Promise<boolean> {
  try {
    await writeNew(file, text);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** An unreadable `.break` older than this was left torn by a breaker that died. */
const TORN_BREAKER_MS = 10_000;

/** How long (× 2 ms) to wait for another process that is breaking a stale lock. */
const BREAK_WAIT_POLLS = 250;

/** The file is there (also when its content is unreadable, unlike a read of it). */
async function present(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Removes a lock judged stale, unless another process got there first. Only the holder of
 * `<file>.break` may remove a lock it did not take, and it looks again while holding it: without
 * this, two processes that both saw the same stale lock could each remove it, the slower one
 * removing the lock the faster had just taken. A `.break` whose owner died is itself removed.
 */
async function breakStale(file: string, stale: LockInfo | null, me: LockInfo): Promise<void> {
  const breaker = `${file}.break`;
  if (!(await createWhole(breaker, JSON.stringify(me) + '\n'))) {
    const other = await readLock(breaker);
    // Gone meanwhile (its breaker finished): the next attempt looks again. Never remove a
    // breaker that could not be read: the one read as missing may be a new breaker's by now,
    // and removing it let two processes break, the slower removing the faster's fresh lock.
    if (other === null) {
      // Torn for good (a file system without hard links, its creator killed mid-write): old enough
      // that no live breaker is still writing it.
      const st = await stat(breaker).catch(() => null);
      if (st && Date.now() - st.mtimeMs > TORN_BREAKER_MS && (await readLock(breaker)) === null) await unlink(breaker).catch(() => undefined);
      return;
    }
    if (isStale(other)) {
      // A breaker that died within its short window; the next attempt goes through.
      const again = await readLock(breaker);
      if (again !== null && JSON.stringify(again) === JSON.stringify(other)) await unlink(breaker).catch(() => undefined);
      return;
    }
    // Another process is replacing the stale lock right now (a read and an unlink): let it
    // finish, so that the next attempt sees its lock rather than the stale one.
    for (let i = 0; i < BREAK_WAIT_POLLS && (await present(breaker)); i++) await sleep(2);
    return;
  }
  try {
    let now = await readLock(file);
    if (now === null) {
      // Read as missing: nothing to break, and a new lock may be made any moment (unlinking one
      // made between the read and the unlink gave two holders in the race test). Read as
      // unreadable and there: looked at again, as a whole new lock may have appeared meanwhile.
      // An unreadable file that stays cannot be replaced while we hold `.break`: it may go.
      if (!(await present(file))) return;
      now = await readLock(file);
      if (now !== null) return;
    }
    if (JSON.stringify(now) === JSON.stringify(stale)) await unlink(file).catch(() => undefined);
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

/**
 * Takes a lock file by exclusive, atomic create (mode 0600). A stale lock (owner gone or PID
 * reused) or an unreadable one is replaced; a live one is reported.
 */
export async function tryAcquireLock(file: string, extra: Record<string, unknown> = {}, now = Date.now()): Promise<AcquireResult> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const info: LockInfo = { pid: process.pid, startTime: processStartTime(process.pid), takenAt: new Date(now).toISOString(), ...extra };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createWhole(file, JSON.stringify(info) + '\n')) return { ok: true, info };
    const holder = await readLock(file);
    if (holder && !isStale(holder)) return { ok: false, holder };
    await breakStale(file, holder, info);
  }
  const holder = await readLock(file);
  return holder ? { ok: false, holder } : { ok: false, holder: { pid: -1, startTime: null, takenAt: '' } };
}

/** Removes the lock if this process owns it. */
export async function releaseLock(file: string): Promise<void> {
  const holder = await readLock(file);
  if (holder && holder.pid === process.pid) await unlink(file).catch(() => undefined);
}
