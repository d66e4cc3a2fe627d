/**
 * Running git processes from Linux `/proc`, with their working directory and `GIT_DIR`, for the
 * committer's "is the person's git running here?" check (core/commit/person.ts). Read only when a
 * commit is about to be made, never polled. Off Linux (no /proc) it sees nothing, and says so.
 *
 * Another user's process: its cwd and environ are unreadable without privilege (null); its argv
 * still names the command, and a command that cannot be placed is not assumed to be in this repo.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { personGitCommand, type GitProcess } from '../core/commit/person.js';
import { HAS_PROC, readStat } from './procfs.js';

export interface GitProcessSource {
  /** git processes now, plus every process's parent (to tell winnow's own children apart). */
  list(): { procs: GitProcess[]; parents: Map<number, number> };
  readonly available: boolean;
}

function environGitDir(pid: number): string | null {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    for (const kv of env.split('\0')) if (kv.startsWith('GIT_DIR=')) return kv.slice(8);
  } catch {
    // Another user's process, or gone.
  }
  return null;
}

export function createGitProcesses(): GitProcessSource {
  return {
    available: HAS_PROC,
    list() {
      const procs: GitProcess[] = [];
      const parents = new Map<number, number>();
      if (!HAS_PROC) return { procs, parents };
      let names: string[];
      try {
        names = readdirSync('/proc');
      } catch {
        return { procs, parents };
      }
      for (const n of names) {
        const c = n.charCodeAt(0);
        if (c < 48 || c > 57) continue;
        const pid = Number(n);
        const st = readStat(pid);
        if (!st) continue;
        parents.set(pid, st.ppid);
        if (st.comm !== 'git') continue;
        let argv: string[];
        try {
          argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0');
        } catch {
          continue;
        }
        let cwd: string | null = null;
        try {
          cwd = readlinkSync(`/proc/${pid}/cwd`);
        } catch {
          cwd = null;
        }
        procs.push({ pid, ppid: st.ppid, argv, cwd, gitDirEnv: environGitDir(pid) });
      }
      return { procs, parents };
    },
  };
}

/**
 * The committer's check: a git command of someone else's that may move HEAD in the repository at
 * `root` (git dir `gitDir`, absolute), or null. This process and its children are winnow's own.
 */
export function createPersonGitCheck(root: string, gitDir: string, source: GitProcessSource = createGitProcesses()): () => Promise<{ pid: number; command: string } | null> {
  return async () => {
    const { procs, parents } = source.list();
    return personGitCommand(procs, process.pid, root, gitDir, parents);
  };
}
