import watcher from '@parcel/watcher';
import { chmod } from 'node:fs/promises';
import type { Clock, StreamSpec, Watcher, WatcherSubscription } from '../ports/index.js';
import { normalisePath, type WatchEvent } from '../core/event.js';
import { explainWatchError as explain } from './watch-limit.js';

/**
 * The only module that sees @parcel/watcher (STYLE.md habit 1), the watcher off Linux and with
 * `WINNOW_WATCHER=parcel` (watchers.ts): events leave it as WatchEvents with workspace-relative
 * posix paths. `.git` directories are not watched at all — winnow's own
 * commits must never come back as events (the loop the product exists to prevent).
 */
const IGNORE = ['.git', '**/.git'];

/**
 * The backend named on Linux: without one, @parcel/watcher first probes for watchman through a
 * shell (`sh -c watchman …`) on subscribe, on each snapshot write and on each catch-up read, three
 * spawns at every start-up even where watchman is not installed. winnow's limits, messages and
 * doctor checks are about inotify.
 */
const OPTS: { ignore: string[]; backend?: watcher.BackendType } = process.platform === 'linux' ? { ignore: IGNORE, backend: 'inotify' } : { ignore: IGNORE };

/** The options for one stream: its ignored folders besides `.git`. */
const optsFor = (stream: StreamSpec): typeof OPTS => (stream.ignore?.length ? { ...OPTS, ignore: [...IGNORE, ...stream.ignore] } : OPTS);

export function createParcelWatcher(root: string, clock: Clock): Watcher {
  const toEvents = (stream: StreamSpec, raw: watcher.Event[], source: WatchEvent['source']): WatchEvent[] => {
    const at = clock.now();
    const out: WatchEvent[] = [];
    for (const e of raw) {
      const path = normalisePath(root, e.path);
      if (path === null) continue;
      out.push({ path, kind: e.type, stream: stream.name, priority: stream.priority, at, source });
    }
    return out;
  };

  return {
    async subscribe(stream, onEvents, onError): Promise<WatcherSubscription> {
      const subs: watcher.AsyncSubscription[] = [];
      try {
        for (const dir of stream.dirs) {
          subs.push(
            await watcher.subscribe(
              dir,
              (err, events) => {
                if (err) onError(explain(err));
                if (events && events.length) onEvents(toEvents(stream, events, 'watch'));
              },
              optsFor(stream),
            ),
          );
        }
      } catch (e) {
        await Promise.all(subs.map((s) => s.unsubscribe().catch(() => undefined)));
        throw explain(e as Error);
      }
      return {
        async close() {
          await Promise.all(subs.map((s) => s.unsubscribe().catch(() => undefined)));
        },
      };
    },

    async writeSnapshot(stream, snapshotFile) {
      // The state dir is made at start; never again here: a snapshot written while the workspace
      // is deleted or moved must not recreate `.git/winnow` at the old place.
      // One snapshot per stream; a stream with several dirs keeps one file per dir.
      await Promise.all(
        stream.dirs.map(async (dir, i) => {
          const file = `${snapshotFile}${i ? `.${i}` : ''}`;
          await watcher.writeSnapshot(dir, file, optsFor(stream));
          // The snapshot lists the workspace's file names: private like every state file.
          await chmod(file, 0o600);
        }),
      );
    },

    async eventsSince(stream, snapshotFile) {
      const out: WatchEvent[] = [];
      for (const [i, dir] of stream.dirs.entries()) {
        const file = `${snapshotFile}${i ? `.${i}` : ''}`;
        try {
          const raw = await watcher.getEventsSince(dir, file, optsFor(stream));
          out.push(...toEvents(stream, raw, 'catchup'));
        } catch {
          // No snapshot yet (first start) or an unreadable one: `git status` still reconciles.
        }
      }
      return out;
    },
  };
}
