import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickIgnoredDirs } from '../../src/daemon/watch/ignored-dirs.js';

test('pickIgnoredDirs: confirmed folders only, none inside another, shallowest kept under the cap', () => {
  const listed = ['node_modules/', 'a.log', 'sub/', 'sub/node_modules/', 'build/out/', 'node_modules/x/', 'deep/a/b/'];
  const confirmed = new Set(['node_modules/', 'a.log', 'sub/node_modules/', 'build/out/', 'node_modules/x/', 'deep/a/b/']);
  assert.deepEqual(pickIgnoredDirs(listed, confirmed), ['build/out', 'deep/a/b', 'node_modules', 'sub/node_modules']);
  assert.deepEqual(pickIgnoredDirs(listed, new Set()), [], 'a folder git only collapsed (sub/ holds nothing but ignored things) stays watched');
  assert.deepEqual(pickIgnoredDirs(listed, confirmed, 2), ['build/out', 'node_modules'], 'the shallowest first');
});
