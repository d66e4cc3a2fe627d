/**
 * Which watcher the daemon runs. On Linux the per-folder one (folder-watcher.ts); elsewhere, or
 * with `WINNOW_WATCHER=parcel`, @parcel/watcher, loaded only then (its native module and its
 * per-file tree cost memory a Linux daemon does not spend).
 */
import type { Clock, Watcher } from '../ports/index.js';
import { ConfigError } from '../core/config/errors.js';
import { createFolderWatcher } from './folder-watcher.js';

export type WatcherKind = 'folders' | 'parcel';

/** The watcher `WINNOW_WATCHER` names, or the platform's; a value it does not know is an error (exit 2). */
export function watcherKind(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): WatcherKind {
  const v = env.WINNOW_WATCHER;
  if (v === undefined || v === '') return platform === 'linux' ? 'folders' : 'parcel';
  if (v === 'folders' || v === 'parcel') return v;
  throw new ConfigError('environment', 'WINNOW_WATCHER', `"${v}" is not a watcher winnow has; use "folders" (Linux, the default there) or "parcel" (@parcel/watcher), or unset it.`);
}

export async function createWatcher(root: string, clock: Clock, kind: WatcherKind = watcherKind()): Promise<Watcher> {
  if (kind === 'folders') return createFolderWatcher(root, clock);
  const { createParcelWatcher } = await import('./parcel-watcher.js');
  return createParcelWatcher(root, clock);
}
