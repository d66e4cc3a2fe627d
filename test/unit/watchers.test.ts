import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watcherKind } from '../../src/adapters/watchers.js';
import { ConfigError } from '../../src/core/config/errors.js';

test('the watcher: per-folder on Linux, @parcel/watcher elsewhere, WINNOW_WATCHER chooses, anything else is an error', () => {
  assert.equal(watcherKind({}, 'linux'), 'folders');
  assert.equal(watcherKind({ WINNOW_WATCHER: '' }, 'linux'), 'folders');
  assert.equal(watcherKind({}, 'darwin'), 'parcel');
  assert.equal(watcherKind({ WINNOW_WATCHER: 'parcel' }, 'linux'), 'parcel');
  assert.equal(watcherKind({ WINNOW_WATCHER: 'folders' }, 'darwin'), 'folders');
  assert.throws(() => watcherKind({ WINNOW_WATCHER: 'inotify' }, 'linux'), (e: unknown) => e instanceof ConfigError && e.key === 'WINNOW_WATCHER' && /"inotify"/.test(e.message));
});
