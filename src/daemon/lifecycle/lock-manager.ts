/**
 * Lock manager over `lock.ts`: exclusive-create lock files (stale when the owner is gone or its
 * PID was reused) plus what waiting needs: a timeout, and fair first-come order — within this
 * process through a per-file chain, across processes through ticket files in `<lock>.wait/`
 * (only the oldest live ticket may try). A live holder is never robbed, however long it holds;
 * the waiter times out with an error naming it.
 */
import { mkdir, readdir, unlink, writeFile } from 'node:fs/promises';
import { join, basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, releaseLock, tryAcquireLock, type LockInfo } from './lock.js';

export interface LockHandle {
  file: string;
  info: LockInfo;
  release(): Promise<void>;
}

/** Waited `timeoutMs` for a lock a live process holds. */
export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
  constructor(
    readonly file: string,
    readonly holder: LockInfo | null,
    readonly timeoutMs: number,
  ) {
    super(
      `${file} is held by PID ${holder?.pid ?? 'unknown'}${holder?.takenAt ? ` since ${holder.takenAt}` : ''}; gave up after ${timeoutMs} ms. ` +
        `If that process is not winnow or is stuck, stop it; a lock whose process is gone is replaced automatically.`,
    );
  }
}

export interface AcquireOptions {
  /** Give up after this long (0: try once). */
  timeoutMs: number;
  /** Extra fields stored in the lock file (e.g. the reason). */
  extra?: Record<string, unknown>;
  signal?: AbortSignal;
}

const chains = new Map<string, Promise<unknown>>();
let ticketSeq = 0;

function ticketName(): string {
  // Sortable: time, then a per-process sequence; pid last so stale tickets can be told apart.
  return `${Date.now().toString().padStart(15, '0')}-${String(ticketSeq++).padStart(6, '0')}-${process.pid}`;
}

function ticketPid(name: string): number {
  return Number(name.slice(name.lastIndexOf('-') + 1));
}

async function firstLiveTicket(dir: string): Promise<string | null> {
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const n of names) {
    const pid = ticketPid(n);
    if (pid !== process.pid && !isAlive(pid)) {
      await unlink(join(dir, n)).catch(() => undefined);
      continue;
    }
    return n;
  }
  return null;
}

/**
 * Acquires `file`, waiting in order behind earlier waiters (of this and other processes) for
 * at most `timeoutMs`. Throws LockTimeoutError naming the holder.
 */
export async function acquireLock(file: string, opts: AcquireOptions): Promise<LockHandle> {
  const prev = chains.get(file) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((r) => (done = r));
  const chained = prev.then(() => mine);
  chains.set(file, chained);
  const deadline = Date.now() + opts.timeoutMs;
  try {
    const timer = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, timer.signal]) : timer.signal;
    try {
      await Promise.race([
        prev,
        sleep(Math.max(0, opts.timeoutMs), undefined, { signal }).then(() => {
          throw new LockTimeoutError(file, null, opts.timeoutMs);
        }),
      ]);
    } finally {
      timer.abort();
    }
    const handle = await acquireAcrossProcesses(file, opts, deadline);
    let released = false;
    return {
      file,
      info: handle,
      async release() {
        if (released) return;
        released = true;
        await releaseLock(file);
        done();
        if (chains.get(file) === chained) chains.delete(file);
      },
    };
  } catch (e) {
    // Let the next waiter go once whoever we waited for is done.
    void prev.then(() => {
      done();
      if (chains.get(file) === chained) chains.delete(file);
    });
    throw e;
  }
}

async function acquireAcrossProcesses(file: string, opts: AcquireOptions, deadline: number): Promise<LockInfo> {
  const waitDir = join(dirname(file), `${basename(file)}.wait`);
  await mkdir(waitDir, { recursive: true, mode: 0o700 });
  const ticket = ticketName();
  await writeFile(join(waitDir, ticket), '', { mode: 0o600 });
  let pollMs = 5;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const first = await firstLiveTicket(waitDir);
      let holder: LockInfo | null = null;
      if (first === null || first === ticket) {
        const r = await tryAcquireLock(file, opts.extra);
        if (r.ok) return r.info;
        holder = r.holder;
      }
      if (Date.now() >= deadline) throw new LockTimeoutError(file, holder, opts.timeoutMs);
      // Lock waits are rare and short (a sync, a registry write); a capped backoff poll is enough.
      await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())), undefined, { signal: opts.signal });
      pollMs = Math.min(250, pollMs * 2);
    }
  } finally {
    await unlink(join(waitDir, ticket)).catch(() => undefined);
  }
}

/** Runs `fn` holding the lock; releases it however `fn` ends. */
export async function withLock<T>(file: string, opts: AcquireOptions, fn: () => Promise<T>): Promise<T> {
  const h = await acquireLock(file, opts);
  try {
    return await fn();
  } finally {
    await h.release();
  }
}
