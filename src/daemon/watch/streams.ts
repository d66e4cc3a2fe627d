/**
 * The watched streams: subscriptions through the Watcher port, catch-up from the last snapshot
 * (`watcher-<stream>.snapshot`), and whether the watcher is live or winnow relies on rescans.
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
  /** `rescan-only` when the watcher could not start or hit its limit: rescans find the changes. */
  mode: { mode: 'live' | 'rescan-only'; reason: string | null } = { mode: 'live', reason: null };

  constructor(
    private readonly deps: { root: string; stateDir: string; config: Config; watcher: Watcher; logger: Logger },
  ) {
    this.specs = streamSpecs(deps.root, deps.config);
  }

  private snapshotFile(s: StreamSpec): string {
    return join(this.deps.stateDir, `watcher-${s.name}.snapshot`);
  }

  /** What changed since the last snapshot of each stream (catch-up after a restart). */
  async eventsSince(): Promise<WatchEvent[]> {
    const since: WatchEvent[] = [];
    for (const s of this.specs) since.push(...(await this.deps.watcher.eventsSince(s, this.snapshotFile(s))));
    return since;
  }

  /** Subscribes every stream; one that cannot be watched leaves winnow on rescans. */
  async subscribe(onEvents: (events: WatchEvent[]) => void, onError: (err: Error) => void): Promise<void> {
    for (const s of this.specs) {
      try {
        this.subs.push(await this.deps.watcher.subscribe(s, onEvents, onError));
      } catch (e) {
        this.mode = { mode: 'rescan-only', reason: (e as Error).message };
        this.deps.logger.log('warn', 'watcher unavailable; falling back to rescans with git status', { stream: s.name, error: (e as Error).message });
      }
    }
  }

  /** The watcher hit its limit (inotify watches): changes are found by rescans from now on. */
  limitReached(reason: string): void {
    this.mode = { mode: 'rescan-only', reason };
  }

  async writeSnapshots(): Promise<void> {
    for (const s of this.specs) {
      await this.deps.watcher.writeSnapshot(s, this.snapshotFile(s)).catch((e: Error) =>
        this.deps.logger.log('debug', 'watcher snapshot not written', { stream: s.name, error: e.message }),
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.subs.map((s) => s.close()));
    this.subs = [];
  }
}
