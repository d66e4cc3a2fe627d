/**
 * Layer-2 probes of one process. Linux: `/proc/PID/fd` links and `/proc/PID/io`. Elsewhere, open
 * files come from `lsof -p PID` (best effort: slow, ~tens of ms, and absent on some systems) and
 * the write counter is unknown (null), so temporal correlation is off there.
 */
import { readdir, readlink, readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import type { ProcProbe } from '../ports/index.js';
import { normalisePath } from '../core/event.js';
import { startedAtMs } from './procfs.js';

const IS_LINUX = process.platform === 'linux';

export function createProcProbe(root: string): ProcProbe {
  let realRoot = root;
  try {
    realRoot = realpathSync(root);
  } catch {
    // Keep the given root; paths under it still normalise.
  }
  const toRel = (abs: string): string | null => {
    const rel = normalisePath(realRoot, abs) ?? (realRoot !== root ? normalisePath(root, abs) : null);
    if (rel === null || rel === '.git' || rel.startsWith('.git/')) return null;
    return rel;
  };
  return {
    async openFiles(pid) {
      if (!IS_LINUX) return lsofOpenFiles(pid, toRel);
      let fds: string[];
      try {
        fds = await readdir(`/proc/${pid}/fd`);
      } catch {
        return null; // gone, or another user's process without privileges
      }
      const out: string[] = [];
      await Promise.all(
        fds.map(async (fd) => {
          try {
            const target = await readlink(`/proc/${pid}/fd/${fd}`);
            if (!target.startsWith('/')) return; // pipe:[…], socket:[…], anon_inode:…
            const rel = toRel(target.endsWith(' (deleted)') ? target.slice(0, -10) : target);
            if (rel === null) return;
            // fdinfo `flags` is octal open(2) flags: O_WRONLY = 1, O_RDWR = 2 in the low bits.
            const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
            const m = /^flags:\s*([0-7]+)/m.exec(info);
            if (m && (parseInt(m[1]!, 8) & 3) === 0) return;
            out.push(rel);
          } catch {
            // fd closed between readdir and readlink
          }
        }),
      );
      return out;
    },
    async workingDir(pid) {
      if (!IS_LINUX) return null;
      try {
        return await readlink(`/proc/${pid}/cwd`);
      } catch {
        return null;
      }
    },
    async startedAt(pid) {
      return IS_LINUX ? startedAtMs(pid) : null;
    },
    async writeCounter(pid) {
      if (!IS_LINUX) return null;
      try {
        // Read synchronously (procfs is kernel memory, a few µs): the caller's clock reading just
        // before the call then dates the value, which temporal correlation compares with mtimes.
        const io = readFileSync(`/proc/${pid}/io`, 'utf8');
        // write_bytes (pages dirtied towards storage) rather than wchar: wchar also counts writes
        // to pipes, terminals and sockets, so an agent printing to stdout would look like it is
        // writing files. write_bytes is page-granular; core/classify/ownership.ts rounds sizes
        // to pages to match.
        const m = /^write_bytes:\s*(\d+)/m.exec(io);
        return m ? Number(m[1]) : null;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return code === 'ENOENT' || code === 'ESRCH' ? 'gone' : null;
      }
    },
  };
}

function lsofOpenFiles(pid: number, toRel: (abs: string) => string | null): Promise<string[] | null> {
  return new Promise((resolve) => {
    execFile('lsof', ['-n', '-P', '-Fan', '-p', String(pid)], { timeout: 5_000 }, (err, stdout) => {
      if (err && !stdout) return resolve(null);
      const out: string[] = [];
      let mode = '';
      for (const line of String(stdout).split('\n')) {
        if (line.startsWith('a')) mode = line.slice(1);
        if (line.startsWith('f')) mode = '';
        // Access mode r/w/u: only handles open for writing count.
        if (!line.startsWith('n/') || (mode !== 'w' && mode !== 'u')) continue;
        const rel = toRel(line.slice(1));
        if (rel !== null) out.push(rel);
      }
      resolve(out);
    });
  });
}
