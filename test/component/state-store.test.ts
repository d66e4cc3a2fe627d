import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFs } from '../../src/adapters/node-fs.js';
import { StateStore } from '../../src/daemon/lifecycle/state-store.js';
import type { ServiceStatus } from '../../src/core/status.js';
import type { Logger, Scheduler } from '../../src/ports/index.js';

const scheduler: Scheduler = { setTimeout: () => null, clearTimeout: () => undefined };

// Regression (fault/root.test.ts flaked under load): the workspace was moved after `writable()`
// said yes and before the files were written, and the write recreated the state dir (and the old
// root with it) in the void.
test('a state flush never recreates a state dir that vanished after the writable check', async (t) => {
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'ws');
  const stateDir = join(root, '.git', 'winnow');
  await mkdir(stateDir, { recursive: true });
  const logged: string[] = [];
  const logger: Logger = { log: (_level, msg) => void logged.push(msg) };
  const store = new StateStore({
    stateDir,
    fs: nodeFs,
    scheduler,
    logger,
    writable: async () => true,
    collect: async () => {
      // The workspace goes away while the state is being collected.
      await rm(root, { recursive: true, force: true });
      return { pending: [], decisions: {}, status: {} as ServiceStatus };
    },
  });
  store.start();
  await store.flush();
  assert.equal(existsSync(root), false, `nothing was recreated at ${root}`);
  assert.ok(logged.includes('state files not written'), logged.join(', '));
});

test('a state flush writes the three files while the state dir is there', async (t) => {
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stateDir = join(dir, 'state');
  await mkdir(stateDir);
  const store = new StateStore({
    stateDir,
    fs: nodeFs,
    scheduler,
    logger: { log: () => undefined },
    writable: async () => true,
    collect: async () => ({ pending: [{ path: 'a.md', firstAt: 1 }], decisions: {}, status: { pid: 1 } as unknown as ServiceStatus }),
  });
  store.start();
  await store.flush();
  for (const f of ['pending.json', 'decisions.json', 'state.json']) assert.ok(existsSync(join(stateDir, f)), f);
});
