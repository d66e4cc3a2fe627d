/**
 * The fanotify child: `fatrace -tt -c -f 'W<>D'` in the workspace, behind a `grep -F` that passes
 * on only the lines naming the workspace or the cookie folder, and the cookies that tell when the
 * trace has caught up with a moment (a file written in the cookie folder is reported back).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { findExecutable } from '../util/which.js';

/** grep on PATH or in /usr/bin, /bin; null when absent (the trace then reads every line itself). */
function grepBin(): string | null {
  return findExecutable('grep', ['/usr/bin/grep', '/bin/grep']);
}

export interface FatraceChild {
  child: ChildProcess;
  /** The last 2,000 characters fatrace wrote to stderr. */
  stderr(): string;
}

/**
 * Starts fatrace (and its grep) with `root` as cwd; every line read goes to `onLine`. `names` are
 * the strings a wanted line contains (the workspace and the cookie folder, as given and real).
 */
export function spawnFatrace(bin: string, root: string, names: string[], onLine: (line: string) => void): FatraceChild {
  // `-c` with the workspace as cwd marks only the workspace's mount: writes elsewhere on the
  // machine never reach this process (on a busy machine they cost the daemon CPU per line).
  // The cookie dir lives in the same repository, so it is on that mount too unless the git
  // dir is elsewhere, where flush() then falls back to its time bound.
  const c = spawn(bin, ['-tt', '-c', '-f', 'W<>D'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  let lastStderr = '';
  c.stderr!.setEncoding('utf8');
  c.stderr!.on('data', (d: string) => {
    lastStderr = (lastStderr + d).slice(-2000);
  });
  // When the workspace shares its mount with the rest of the machine (a home on /), fatrace
  // prints every write anywhere on it, one pipe write per line; a `grep -F` in front lets the
  // daemon sleep through the rest (docs/benchmarks.md, idle CPU).
  const grep = grepBin();
  const filter = grep
    ? spawn(grep, ['--line-buffered', '-F', ...names.flatMap((n) => ['-e', n])], {
        stdio: [c.stdout!, 'pipe', 'ignore'],
        env: { ...process.env, LC_ALL: 'C' },
      })
    : null;
  filter?.on('error', () => c.kill('SIGTERM'));
  // grep may exit before fatrace (killed, or failed): fatrace then dies of SIGPIPE on its next
  // line and the restart logic runs; once fatrace exits, grep sees end of input and exits too.
  filter?.once('exit', () => {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  });
  createInterface({ input: filter ? filter.stdout! : c.stdout!, crlfDelay: Infinity }).on('line', onLine);
  return { child: c, stderr: () => lastStderr };
}

export interface Cookies {
  /** Writes a cookie file and resolves true when the trace reports it, false after `ms`. */
  write(ms: number): Promise<boolean>;
  /** The trace reported the file `name` in the cookie folder. */
  seen(name: string): void;
}

export function createCookies(cookieDir: string): Cookies {
  const waiting = new Map<string, () => void>();
  let seq = 0;
  return {
    seen: (name) => waiting.get(name)?.(),
    async write(ms) {
      const name = `${process.pid}-${++seq}`;
      const file = join(cookieDir, name);
      let timer: NodeJS.Timeout | undefined;
      const seen = new Promise<boolean>((resolve) => {
        waiting.set(name, () => resolve(true));
        timer = setTimeout(() => resolve(false), ms);
        timer.unref();
      });
      try {
        await writeFile(file, '', { mode: 0o600 });
      } catch {
        waiting.delete(name);
        clearTimeout(timer);
        return false;
      }
      const ok = await seen;
      clearTimeout(timer);
      waiting.delete(name);
      await unlink(file).catch(() => undefined);
      return ok;
    },
  };
}
