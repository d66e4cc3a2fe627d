// Child process for the SIGKILL tests: runs one sync on the clone in argv[2] and SIGKILLs itself
// at the step named in argv[3] (a faultPoint of the syncer).
import { join } from 'node:path';
import { syncerFor, testConfig } from './sync-helpers.js';
import { GIT_ENV } from '../helpers/repo.js';
import { execFileSync } from 'node:child_process';

const [root, step, conflict] = process.argv.slice(2) as [string, string, 'manual' | 'ours' | 'theirs'];
const git = (...args: string[]) => execFileSync('git', args, { cwd: root, env: GIT_ENV, encoding: 'utf8' });
const clone = {
  root,
  gitDir: join(root, '.git'),
  stateDir: join(root, '.git', 'winnow'),
  git,
  write: async () => undefined,
  read: async () => '',
  commitAll: () => undefined,
};
const { syncer } = syncerFor(clone, {
  config: testConfig({ conflict }),
  faultPoint: (s) => {
    if (s === step) process.kill(process.pid, 'SIGKILL');
  },
});
const r = await syncer.request({ reason: 'child', priority: 'manual' });
process.stdout.write(JSON.stringify(r) + '\n');
