/**
 * The global registry of workspaces winnow runs on: `$XDG_CONFIG_HOME/winnow/workspaces.json`
 * (or `~/.config/winnow/…`), so `winnow status --all` can list them. Updates are
 * read-modify-write under a lock file and written atomically, with a version counter.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { withLock } from './lock-manager.js';
import { isStale, processStartTime } from './lock.js';

export interface RegistryEntry {
  root: string;
  pid: number;
  startTime: string | null;
  registeredAt: string;
}

export interface RegistryFile {
  version: 1;
  /** Bumped on every write. */
  seq: number;
  workspaces: Record<string, RegistryEntry>;
}

export interface ListedWorkspace extends RegistryEntry {
  /** The registered daemon is still that process. */
  running: boolean;
}

export function registryPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return join(base, 'winnow', 'workspaces.json');
}

async function read(file: string): Promise<RegistryFile> {
  try {
    const r = JSON.parse(await readFile(file, 'utf8')) as RegistryFile;
    if (r.version === 1 && r.workspaces && typeof r.workspaces === 'object') return r;
  } catch {
    // absent or damaged: start afresh (the registry is a convenience, never the truth)
  }
  return { version: 1, seq: 0, workspaces: {} };
}

async function update(file: string, fn: (r: RegistryFile) => void): Promise<void> {
  await withLock(`${file}.lock`, { timeoutMs: 5_000 }, async () => {
    const r = await read(file);
    fn(r);
    r.seq += 1;
    await writeFileAtomic(file, JSON.stringify(r, null, 2) + '\n');
  });
}

export interface Registry {
  register(root: string, pid: number): Promise<void>;
  unregister(root: string): Promise<void>;
  list(): Promise<ListedWorkspace[]>;
}

export function createRegistry(file: string = registryPath(), now: () => number = Date.now): Registry {
  return {
    register: (root, pid) =>
      update(file, (r) => {
        r.workspaces[root] = { root, pid, startTime: processStartTime(pid), registeredAt: new Date(now()).toISOString() };
      }),
    unregister: (root) =>
      update(file, (r) => {
        delete r.workspaces[root];
      }),
    async list() {
      const r = await read(file);
      return Object.values(r.workspaces)
        .map((e) => ({ ...e, running: !isStale({ pid: e.pid, startTime: e.startTime, takenAt: e.registeredAt }) }))
        .sort((a, b) => (a.root < b.root ? -1 : 1));
    },
  };
}

const defaultRegistry = () => createRegistry();
export const list = () => defaultRegistry().list();
