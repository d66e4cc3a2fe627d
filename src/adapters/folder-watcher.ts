/**
 * The Linux watcher: one inotify watch per folder through node's `fs.watch`, and nothing kept per
 * file. Written by hand because no library does this at scale: @parcel/watcher keeps every file's
 * absolute path twice in its tree (218–346 bytes a file, +22 to +33 MB at 100k files) and stats
 * every file when it subscribes; chokidar 4 took 24 s and 378 MB on the same 100k files
 * (docs/benchmarks.md). Events leave as WatchEvents, like the parcel adapter's (STYLE.md habit 1).
 *
 * `fs.watch` reports `rename` or `change` and a name, not inotify's mask, so a `rename` is told
 * apart by an `lstat` when its batch is delivered: gone is a delete, a new folder is watched and
 * walked (its files reported as created: they may have been written before its watch existed).
 * libuv drops inotify's queue-overflow event, like @parcel/watcher does: the daemon's reconciling
 * rescans with `git status` (SPEC, Coordination) are what make a lost event harmless.
 *
 * There is no snapshot: on start, `git status` and the persisted decisions' file identities
 * (known-decisions.ts) find what changed while winnow was down.
 */
import { lstatSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Clock, StreamSpec, Watcher, WatcherSubscription } from '../ports/index.js';
import { normalisePath, type WatchEvent } from '../core/event.js';
import { explainWatchError } from './watch-limit.js';

type Found = { path: string; kind: WatchEvent['kind'] };

/**
 * Batching: a change after a quiet half second is delivered at once; later ones wait for 50 ms
 * without a change (@parcel/watcher's Debounce.cc does the same), and at most 150 ms after the last
 * delivery. Each read of the inotify queue at once made many small batches in an event storm
 * (p95 1076 ms); @parcel/watcher's 500 ms cap held a person's save up to half a second behind the
 * storm's (p95 574–808 ms in five alternated runs, against 567–638 ms with 150 ms).
 */
const QUIET_MS = 50;
const QUIET_AFTER_MS = 500;
const MAX_WAIT_MS = 150;

/** Errors that mean "this folder is not there to watch (any more)": it is skipped, not fatal. */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'ELOOP']);
const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? '';

/** The folders of one subscription, their watches, and the changes waiting for delivery. */
class FolderTree {
  /** Watched folder → its watch. */
  private readonly watched = new Map<string, FSWatcher>();
  /**
   * Changed path → whether a `rename` was seen (its kind needs an lstat), and the name's bytes when
   * they are not valid UTF-8 (the string holds U+FFFD, which names no file; the pipeline holds such
   * files by that string: unnamable.ts).
   */
  private pending = new Map<string, { renamed: boolean; raw?: Buffer }>();
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private lastRaw = 0;
  private lastDelivered = -Infinity;
  /** The waiting changes are due for delivery (the batching window has closed). */
  private due = false;
  private draining: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly opts: {
      /** Absolute folders not to watch (wholly git-ignored ones). */
      ignore: ReadonlySet<string>;
      onChanges(found: Found[]): void;
      onError(err: Error): void;
    },
  ) {}

  /** Watches `dir` and every folder under it. A top folder that cannot be watched throws. */
  async watchTop(dir: string): Promise<void> {
    await this.add(dir, null, true);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watched.values()) w.close();
    this.watched.clear();
    this.pending.clear();
  }

  /**
   * Watches `dir` (before reading it, so nothing made meanwhile falls between), then the folders in
   * it. `found` collects the files and folders seen, for a folder that appeared while watching.
   */
  private async add(dir: string, found: Found[] | null, top = false): Promise<void> {
    if (this.closed || this.watched.has(dir)) return;
    let w: FSWatcher;
    try {
      const base = basename(dir);
      w = watch(dir, { persistent: true, encoding: 'buffer' }, (type, name) => this.raw(dir, base, type, name));
    } catch (e) {
      if (!top && GONE.has(code(e))) return;
      throw explainWatchError(e as Error);
    }
    w.on('error', (e) => {
      if (this.watched.get(dir) === w) this.drop(dir);
      this.opts.onError(e);
    });
    // In the map at once: a change seen meanwhile must not watch it twice.
    this.watched.set(dir, w);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (this.watched.get(dir) === w) this.drop(dir);
      if (top) throw e;
      return;
    }
    // Dropped meanwhile (deleted, moved, replaced): whoever watches it anew walks it.
    if (this.watched.get(dir) !== w) return;
    const subdirs: string[] = [];
    for (const e of entries) {
      if (e.name === '.git') continue;
      const p = join(dir, e.name);
      if (this.opts.ignore.has(p)) continue;
      if (e.isDirectory()) subdirs.push(p);
      found?.push({ path: p, kind: 'create' });
    }
    await Promise.all(subdirs.map((d) => this.add(d, found)));
  }

  /** Stops watching `dir` and every folder under it (it was deleted, moved away or replaced). */
  private drop(dir: string): void {
    const w = this.watched.get(dir);
    if (!w) return;
    w.close();
    this.watched.delete(dir);
    const under = `${dir}/`;
    for (const [d, x] of this.watched) {
      if (d.startsWith(under)) {
        x.close();
        this.watched.delete(d);
      }
    }
  }

  /** One inotify event of the folder `dir` (named `base`): runs for every write, so no path parsing. */
  private raw(dir: string, base: string, type: string, name: Buffer | null): void {
    if (this.closed || name === null) return;
    const n = name.toString();
    if (n === '.git') return;
    const path = `${dir}/${n}`;
    if (this.opts.ignore.has(path)) return;
    // A folder's own deletion or move arrives under its own name (libuv's basename): checked by lstat.
    const renamed = type === 'rename' || n === base;
    const raw = n.includes('\uFFFD') ? Buffer.concat([Buffer.from(`${dir}/`), name]) : undefined;
    this.pending.set(path, { renamed: this.pending.get(path)?.renamed === true || renamed, ...(raw ? { raw } : {}) });
    this.schedule();
  }

  private schedule(): void {
    const now = performance.now();
    this.lastRaw = now;
    if (this.scheduled || this.timer) return;
    if (now - this.lastDelivered > QUIET_AFTER_MS) {
      // Everything this read of the inotify queue brought goes together, at once.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.release();
      });
    } else {
      this.timer = setTimeout(() => this.tick(), QUIET_MS);
    }
  }

  private tick(): void {
    this.timer = null;
    const wait = Math.min(this.lastRaw + QUIET_MS, this.lastDelivered + MAX_WAIT_MS) - performance.now();
    if (wait >= 1) this.timer = setTimeout(() => this.tick(), wait);
    else this.release();
  }

  private release(): void {
    if (this.closed) return;
    this.lastDelivered = performance.now();
    this.due = true;
    if (!this.draining) void this.drain();
  }

  /** Delivers the waiting changes, one batch at a time and in order; what arrives meanwhile goes next. */
  private drain(): Promise<void> {
    this.draining = (async () => {
      while (this.due && !this.closed) {
        this.due = false;
        const batch = [...this.pending];
        this.pending = new Map();
        let failed: Error | null = null;
        const out: Found[] = [];
        for (const [path, { renamed, raw }] of batch) {
          if (!renamed) {
            out.push({ path, kind: 'update' });
            continue;
          }
          const made = this.resolve(path, raw, out);
          // Only a new folder waits (its watch and walk); a file's kind was known at once.
          if (made) await made.catch((e: Error) => void (failed ??= e));
        }
        if (out.length && !this.closed) this.opts.onChanges(out);
        // A folder that could not be watched (the inotify limit): the daemon falls back to rescans.
        if (failed) this.opts.onError(explainWatchError(failed));
      }
    })().finally(() => {
        this.draining = null;
      });
    return this.draining;
  }

  /**
   * What a `rename` of `path` was, into `out`: a delete, a file made, or a folder made (the promise
   * of its watch and walk). A synchronous lstat: ~3 µs against ~15 µs of the event loop's time for
   * a promised one, 20k times in an event storm.
   */
  private resolve(path: string, raw: Buffer | undefined, out: Found[]): Promise<void> | null {
    const st = lstatOrNull(raw ?? path);
    if (!st) {
      const parent = dirname(path);
      if (basename(path) === basename(parent) && !lstatOrNull(parent)) {
        // The watched folder itself went (deleted or moved): its parent's watch reports it.
        this.drop(parent);
        return null;
      }
      this.drop(path);
      out.push({ path, kind: 'delete' });
      return null;
    }
    if (!st.isDirectory()) {
      out.push({ path, kind: 'create' });
      return null;
    }
    // A folder's name renamed in its parent is a folder made, moved in or replaced, never the same
    // one: it is watched anew (a replaced folder's watch is gone, and its inode number may be reused).
    this.drop(path);
    out.push({ path, kind: 'create' });
    return this.add(path, out);
  }
}

/** lstat, or null when the path is not there (or cannot be looked at). */
function lstatOrNull(p: string | Buffer): Stats | null {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

export function createFolderWatcher(root: string, clock: Clock): Watcher {
  return {
    async subscribe(stream: StreamSpec, onEvents, onError): Promise<WatcherSubscription> {
      const toEvents = (found: Found[]): WatchEvent[] => {
        const at = clock.now();
        const out: WatchEvent[] = [];
        for (const f of found) {
          const path = normalisePath(root, f.path);
          if (path !== null) out.push({ path, kind: f.kind, stream: stream.name, priority: stream.priority, at, source: 'watch' });
        }
        return out;
      };
      const tree = new FolderTree({
        ignore: new Set(stream.ignore ?? []),
        onChanges: (found) => {
          const events = toEvents(found);
          if (events.length) onEvents(events);
        },
        onError,
      });
      try {
        for (const dir of stream.dirs) await tree.watchTop(dir);
      } catch (e) {
        tree.close();
        throw explainWatchError(e as Error);
      }
      return {
        async close() {
          tree.close();
        },
      };
    },

    async writeSnapshot(_stream, snapshotFile) {
      // A snapshot an earlier version wrote with @parcel/watcher would only go stale.
      await rm(snapshotFile, { force: true });
    },

    async eventsSince() {
      return [];
    },
  };
}
