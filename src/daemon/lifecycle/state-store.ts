/**
 * The daemon's state files: `pending.json` (accepted, not yet committed: replayed on start),
 * `decisions.json` (BLOCK decisions of layers 2–3 on dirty paths) and `state.json` (status).
 * Written atomically, at most every STATE_FLUSH_MS, and only while this process holds the lock.
 */
import { join } from 'node:path';
import type { Fs, Logger, Scheduler } from '../../ports/index.js';
import type { ServiceStatus } from '../../core/status.js';
import type { Known } from '../classify/known-decisions.js';
import { RATE_LIMIT_FILE } from '../../core/commit/rate-limit.js';

/** state.json is rewritten at most this often. */
export const STATE_FLUSH_MS = 100;

export interface PersistedState {
  pending: { path: string; firstAt: number }[];
  decisions: Record<string, Known>;
}

/** What `load` reads besides: the rate limit's counters (written by the committer after each commit). */
export interface LoadedState extends PersistedState {
  rateLimit: unknown;
}

export interface StateStoreDeps {
  stateDir: string;
  fs: Fs;
  scheduler: Scheduler;
  logger: Logger;
  /** False when the state dir must not be written (the workspace vanished). */
  writable(): Promise<boolean>;
  /** What to write now (called after `writable`). */
  collect(): Promise<PersistedState & { status: ServiceStatus }>;
}

export class StateStore {
  private timer: unknown = null;
  private flushing: Promise<void> = Promise.resolve();
  /** True while this process holds daemon.lock: only then are state files written. */
  private open = false;

  constructor(private readonly deps: StateStoreDeps) {}

  private file(name: string): string {
    return join(this.deps.stateDir, name);
  }

  /** Reads pending.json and decisions.json; an unreadable file is logged and treated as empty. */
  async load(now: number): Promise<LoadedState> {
    const out: LoadedState = { pending: [], decisions: {}, rateLimit: null };
    const log = this.deps.logger;
    try {
      const pending = JSON.parse((await this.deps.fs.readFile(this.file('pending.json'))).toString('utf8')) as { path: string; firstAt: number }[];
      if (!Array.isArray(pending)) throw new Error('not an array');
      for (const p of pending) {
        if (typeof p?.path !== 'string') continue;
        out.pending.push({ path: p.path, firstAt: typeof p.firstAt === 'number' ? p.firstAt : now });
      }
      if (pending.length) log.log('info', 'replaying accepted changes from before the restart', { paths: pending.length });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        log.log('warn', 'pending.json was unreadable and is discarded; a full rescan finds every change', { error: (e as Error).message });
      }
    }
    try {
      const k = JSON.parse((await this.deps.fs.readFile(this.file('decisions.json'))).toString('utf8')) as Record<string, Known> | null;
      if (typeof k !== 'object' || k === null) throw new Error('not an object');
      out.decisions = k;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        log.log('warn', 'decisions.json was unreadable and is discarded; paths are classified afresh', { error: (e as Error).message });
      }
    }
    try {
      out.rateLimit = JSON.parse((await this.deps.fs.readFile(this.file(RATE_LIMIT_FILE))).toString('utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        log.log('warn', `${RATE_LIMIT_FILE} was unreadable and is discarded; the rate limit starts afresh`, { error: (e as Error).message });
      }
    }
    return out;
  }

  /** The lock is held: state files may be written from now on. */
  start(): void {
    this.open = true;
  }

  /** A write within STATE_FLUSH_MS (coalesced). */
  schedule(): void {
    if (this.timer || !this.open) return;
    this.timer = this.deps.scheduler.setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, STATE_FLUSH_MS);
  }

  /** Writes the state files now (after any write in progress). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      // Never recreate a vanished workspace's state dir by writing into it.
      if (!this.open || !(await this.deps.writable())) return;
      const s = await this.deps.collect();
      // The workspace may vanish (or move) after `writable` looked: the state dir is made once at
      // start, and a write never makes it again.
      const opts = { createDir: false };
      try {
        await this.deps.fs.writeFileAtomic(this.file('pending.json'), JSON.stringify(s.pending), opts);
        await this.deps.fs.writeFileAtomic(this.file('decisions.json'), JSON.stringify(s.decisions), opts);
        await this.deps.fs.writeFileAtomic(this.file('state.json'), JSON.stringify(s.status, null, 2) + '\n', opts);
      } catch (e) {
        this.deps.logger.log('warn', 'state files not written', { error: (e as Error).message });
      }
    });
    return this.flushing;
  }

  /** No more scheduled writes (a last `flush()` may still be called before `close()`). */
  cancel(): void {
    if (this.timer) this.deps.scheduler.clearTimeout(this.timer);
    this.timer = null;
  }

  /** The lock is released: nothing is written any more. */
  close(): void {
    this.cancel();
    this.open = false;
  }
}
