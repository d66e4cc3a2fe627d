/**
 * The watched streams: subscriptions through the Watcher port, catch-up from the last snapshot
 * (`watcher-<stream>.snapshot`), and whether the watcher is live or winnow relies on rescans.
 * Folders git ignores as a whole are left unwatched (watch/ignored-dirs.ts); when a `.gitignore`
 * changes, the list is read again and the streams are subscribed anew if it moved.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Config } from '../../core/config/defaults.js';
import { ConfigError } from '../../core/config/schema.js';
import type { Priority, WatchEvent } from '../../core/event.js';
import type { Logger, StreamSpec, Watcher, WatcherSubscription } from '../../ports/index.js';

export function streamSpecs(root: string, config: Config): StreamSpec[] {
  return config.streams.map((s, i) => ({
    name: s.name,
    priority: s.priority as Priority,
    dirs: s.paths.map((p, j) => {
      const abs = isAbsolute(p) ? p : resolve(root, p);
      const rel = relative(root, abs);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        throw new ConfigError('config', `streams[${i}].paths[${j}]`, `"${p}" is outside the workspace ${root}.`);
      }
      return abs;
    }),
  }));
}

export class WatchStreams {
  readonly specs: StreamSpec[];
  private subs: WatcherSubscription[] = [];
  /** Workspace-relative folders left unwatched; read once before the first subscribe. */
  private ignored: string[] = [];
  private ignoredRead: Promise<void> | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private handlers: { onEvents: (events: WatchEvent[]) => void; onError: (err: Error) => void } | null = null;
  /** `rescan-only` when the watcher could not start or hit its limit: rescans find the changes. */
  mode: { mode: 'live' | 'rescan-only'; reason: string | null } = { mode: 'live', reason: null };

  constructor(
    private readonly deps: {
      root: string;
      stateDir: string;
      config: Config;
      watcher: Watcher;
      logger: Logger;
      /** The wholly ignored folders (watch/ignored-dirs.ts); absent: everything is watched. */
      ignoredDirs?: () => Promise<string[]>;
      /** The ignored folders changed and the streams were subscribed anew: a rescan finds what they hid. */
      onIgnoredChanged?: () => void;
    },
  ) {
    this.specs = streamSpecs(deps.root, deps.config);
  }

  private snapshotFile(s: StreamSpec): string {
    return join(this.deps.stateDir, `watcher-${s.name}.snapshot`);
  }

  /** Starts reading the ignored folders (start-up calls it early, so it overlaps other work). */
  prepare(): Promise<void> {
    this.ignoredRead ??= this.readIgnored().then((dirs) => {
      this.ignored = dirs;
    });
    return this.ignoredRead;
  }

  /** Folders left unwatched now, workspace-relative (for status and tests). */
  unwatched(): readonly string[] {
    return this.ignored;
  }

  private async readIgnored(): Promise<string[]> {
    if (!this.deps.ignoredDirs) return [];
    try {
      return await this.deps.ignoredDirs();
    } catch (e) {
      this.deps.logger.log('warn', 'could not list the folders git ignores; watching them too', { error: (e as Error).message });
      return [];
    }
  }

  /** `s` with the ignored folders under its directories as absolute paths. */
  private withIgnored(s: StreamSpec, ignored: readonly string[]): StreamSpec {
    if (!ignored.length) return s;
    const abs = ignored.map((d) => join(this.deps.root, d));
    const under = abs.filter((a) => s.dirs.some((dir) => a.startsWith(dir.endsWith('/') ? dir : dir + '/')));
    return under.length ? { ...s, ignore: under } : s;
  }

  /** What changed since the last snapshot of each stream (catch-up after a restart). */
  async eventsSince(): Promise<WatchEvent[]> {
    await this.prepare();
    const since: WatchEvent[] = [];
    for (const s of this.specs) since.push(...(await this.deps.watcher.eventsSince(this.withIgnored(s, this.ignored), this.snapshotFile(s))));
    return since;
  }

  /** Subscribes every stream; one that cannot be watched leaves winnow on rescans. */
  async subscribe(onEvents: (events: WatchEvent[]) => void, onError: (err: Error) => void): Promise<void> {
    await this.prepare();
    this.handlers = { onEvents, onError };
    this.subs = await this.subscribeAll(this.ignored);
  }

  private async subscribeAll(ignored: readonly string[]): Promise<WatcherSubscription[]> {
    const subs: WatcherSubscription[] = [];
    const onEvents = (events: WatchEvent[]) => {
      if (this.deps.ignoredDirs && events.some((e) => e.path === '.gitignore' || e.path.endsWith('/.gitignore'))) void this.refresh();
      this.handlers?.onEvents(events);
    };
    for (const s of this.specs) {
      try {
        subs.push(await this.deps.watcher.subscribe(this.withIgnored(s, ignored), onEvents, (e) => this.handlers?.onError(e)));
      } catch (e) {
        this.mode = { mode: 'rescan-only', reason: (e as Error).message };
        this.deps.logger.log('warn', 'watcher unavailable; falling back to rescans with git status', { stream: s.name, error: (e as Error).message });
      }
    }
    return subs;
  }

  /**
   * A `.gitignore` changed: reads the ignored folders again and, when they moved, subscribes anew
   * (the new subscriptions first, so no change falls between) and asks for a rescan. One at a time;
   * a change during a refresh runs one more.
   */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const next = await this.readIgnored();
        if (!this.handlers || (next.length === this.ignored.length && next.every((d, i) => d === this.ignored[i]))) continue;
        const old = this.subs;
        this.subs = await this.subscribeAll(next);
        this.ignored = next;
        await Promise.all(old.map((s) => s.close().catch(() => undefined)));
        this.deps.logger.log('info', 'the folders git ignores changed; watching anew', { unwatched: next.length });
        this.deps.onIgnoredChanged?.();
      } while (this.refreshAgain && this.handlers);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** The watcher hit its limit (inotify watches): changes are found by rescans from now on. */
  limitReached(reason: string): void {
    this.mode = { mode: 'rescan-only', reason };
  }

  async writeSnapshots(): Promise<void> {
    for (const s of this.specs) {
      await this.deps.watcher.writeSnapshot(this.withIgnored(s, this.ignored), this.snapshotFile(s)).catch((e: Error) =>
        this.deps.logger.log('debug', 'watcher snapshot not written', { stream: s.name, error: e.message }),
      );
    }
  }

  async close(): Promise<void> {
    this.handlers = null;
    await this.refreshing;
    await Promise.all(this.subs.map((s) => s.close()));
    this.subs = [];
  }
}
