/**
 * The `Git` port on plain `child_process.spawn`, not simple-git: its fixed wait after silent
 * commands costs more than a commit (docs/dependencies.md).
 *
 * Every call: a timeout (SIGTERM, then SIGKILL), `GIT_TERMINAL_PROMPT=0`, `LC_ALL=C`,
 * `GIT_LITERAL_PATHSPECS=1`; read-only calls add `GIT_OPTIONAL_LOCKS=0` so they never take
 * `index.lock` from under the person's own git. Pathspecs always follow `--` (in argv chunks under
 * the argv limit) or go through stdin with `--pathspec-from-file=- --pathspec-file-nul`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { Git, GitStep, Logger, RepoBlock, StatusEntry } from '../ports/index.js';
import { chunkPaths, parseLsFiles } from '../core/commit/plumbing.js';
import { readIndexScan } from './index-file.js';

/** A git command that ran and failed, or did not finish in time. */
export class GitError extends Error {
  override name = 'GitError';
  constructor(
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly timedOut: boolean,
    /** What git printed on stdout (its tail): `commit` says "nothing to commit" there, not on stderr. */
    readonly stdout = '',
  ) {
    super(
      timedOut
        ? `git ${args.slice(0, 3).join(' ')} did not finish in time and was stopped.`
        : `git ${args.slice(0, 3).join(' ')} failed (exit ${code}): ${firstLines(stderr)}`,
    );
  }
}

export interface GitOptions {
  gitDir: string;
  stateDir: string;
  timeoutMs: number;
  hooks: boolean;
  logger?: Logger;
}

const NO_PATHS: ReadonlySet<string> = new Set();

/** Bytes of pathspec argv per spawn; far under Linux's 2 MiB ARG_MAX and Windows' 32 KiB command line. */
const ARGV_CHUNK_BYTES = 24 * 1024;
/** After SIGTERM (git removes its lock files on SIGTERM), SIGKILL if it is still there. */
const KILL_GRACE_MS = 2_000;
/**
 * Blob contents kept in memory, by blob id (layer 3 compares against HEAD on every change). Sized
 * for the files layer 3 reads whole (JSON up to `json.maxBytes`, small text): larger files are
 * compared by hash and never enter it. It counts towards the RSS targets (≤ 64 MB at 10k files).
 */
const BLOB_CACHE_BYTES = 8 * 1024 * 1024;

const IDENTITY = ['-c', 'user.name=winnow', '-c', 'user.email=winnow@localhost'];

interface ExecOptions {
  stdin?: string | Buffer;
  env?: Record<string, string>;
  readOnly?: boolean;
  /** Exit codes that are answers, not failures (check-ignore exits 1 when nothing is ignored). */
  okCodes?: readonly number[];
}

interface ExecResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** The environment every git call starts from: inherited, minus variables that would redirect git. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Set when winnow is started from inside a git hook; they would point git at another repo/index.
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_PREFIX', 'GIT_OBJECT_DIRECTORY']) delete env[k];
  env.GIT_TERMINAL_PROMPT = '0';
  env.LC_ALL = 'C';
  env.GIT_LITERAL_PATHSPECS = '1';
  return env;
}

/**
 * Creates the adapter for the work tree at `root`. Makes `<stateDir>/hooks-empty` (the
 * `core.hooksPath` used when hooks are off) and checks whether a commit identity is configured.
 *
 * @example
 *   const git = await createGit('/repo', { gitDir: '/repo/.git', stateDir: '/repo/.git/winnow', timeoutMs: 30_000, hooks: false });
 *   await git.status();
 */
export async function createGit(root: string, opts: GitOptions): Promise<Git> {
  const env = baseEnv();
  const roEnv: NodeJS.ProcessEnv = { ...env, GIT_OPTIONAL_LOCKS: '0' };
  const timeoutMs = opts.timeoutMs;

  function exec(args: string[], o: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      let child: ChildProcessWithoutNullStreams;
      try {
        child = spawn('git', args, {
          cwd: root,
          env: o.env ? { ...(o.readOnly ? roEnv : env), ...o.env } : o.readOnly ? roEnv : env,
          stdio: ['pipe', 'pipe', 'pipe'],
          // Own process group, so a timeout also stops what git started (hooks, ssh, helpers).
          detached: process.platform !== 'win32',
        });
      } catch (e) {
        reject(new GitError(args, null, (e as Error).message, false));
        return;
      }
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const killGroup = (sig: NodeJS.Signals) => {
        try {
          if (child.pid && process.platform !== 'win32') process.kill(-child.pid, sig);
          else child.kill(sig);
        } catch {
          // Already gone.
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
        killTimer.unref();
      }, timeoutMs);
      const finish = (code: number | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        const stderr = Buffer.concat(err).toString('utf8');
        const stdout = Buffer.concat(out);
        if (code === 0 || (!timedOut && code !== null && o.okCodes?.includes(code))) {
          resolve({ code: code ?? 0, stdout, stderr });
        } else reject(new GitError(args, code, stderr, timedOut, stdout.subarray(-4096).toString('utf8')));
      };
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      // git may exit before reading all of stdin (an early fatal): that EPIPE is not the failure to report.
      child.stdin.on('error', () => undefined);
      child.on('error', (e) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        const msg = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'git was not found on PATH. Install git 2.25 or newer.' : e.message;
        reject(new GitError(args, null, msg, false));
      });
      // After a timeout, do not wait for pipes a surviving grandchild may still hold open.
      child.on('exit', (code) => {
        if (timedOut) finish(code);
      });
      child.on('close', (code) => finish(code));
      if (o.stdin !== undefined) child.stdin.end(o.stdin);
      else child.stdin.end();
    });
  }

  /** Runs `args -- <chunk>` for each argv chunk of `paths`, concatenating stdout. */
  async function execChunked(args: string[], paths: readonly string[], o: ExecOptions): Promise<Buffer> {
    const outs: Buffer[] = [];
    for (const chunk of chunkPaths(paths, ARGV_CHUNK_BYTES)) {
      outs.push((await exec([...args, '--', ...chunk], o)).stdout);
    }
    return Buffer.concat(outs);
  }

  const identityMissing = !(await hasIdentity(exec, env));
  if (!opts.hooks) await mkdir(join(opts.stateDir, 'hooks-empty'), { recursive: true, mode: 0o700 });

  const blobs = new CatFile(root, roEnv, timeoutMs);

  /** The index file's identity when it was last asked about, and the answer. */
  let unmergedSeen: { key: string; answer: boolean } | null = null;
  async function unmerged(): Promise<boolean> {
    const st = await stat(join(opts.gitDir, 'index')).catch(() => null);
    if (!st) return false;
    const key = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    if (unmergedSeen?.key === key) return unmergedSeen.answer;
    // Read in-process when the format allows (every commit rewrites the index, so this ran per commit).
    const scan = readIndexScan(join(opts.gitDir, 'index'), NO_PATHS);
    if (scan) {
      unmergedSeen = { key, answer: scan.unmerged };
      return scan.unmerged;
    }
    // git cannot read the index (the work tree moved away): other checks say why; not cached.
    const r = await exec(['ls-files', '-u', '-z'], { readOnly: true }).catch(() => null);
    if (!r) return false;
    unmergedSeen = { key, answer: r.stdout.length > 0 };
    return unmergedSeen.answer;
  }

  const git: Git = {
    root,
    gitDir: opts.gitDir,

    async blocked(): Promise<RepoBlock | null> {
      const g = opts.gitDir;
      if (await exists(join(g, 'MERGE_HEAD'))) return 'merge';
      if ((await exists(join(g, 'rebase-merge'))) || (await exists(join(g, 'rebase-apply')))) return 'rebase';
      if (await exists(join(g, 'CHERRY_PICK_HEAD'))) return 'cherry-pick';
      if (await exists(join(g, 'REVERT_HEAD'))) return 'revert';
      if (await exists(join(g, 'BISECT_LOG'))) return 'bisect';
      const head = await readFile(join(g, 'HEAD'), 'utf8').catch(() => null);
      // An unborn branch is still `ref: refs/heads/x`: commits work on it.
      if (head !== null && !head.startsWith('ref:')) return 'detached';
      // Unmerged entries with no MERGE_HEAD (stash pop, merge --squash, checkout -m, cherry-pick -n):
      // a merge is in progress all the same. Asked again only when the index file changed.
      if (await unmerged()) return 'conflict';
      return null;
    },

    async status(): Promise<StatusEntry[]> {
      const r = await exec(['status', '--porcelain=v1', '-z', '--untracked-files=all'], { readOnly: true });
      return parsePorcelainZ(r.stdout.toString('utf8'));
    },

    async ignored(paths) {
      const found = new Set<string>();
      if (paths.length === 0) return found;
      // No --no-index: a tracked file that matches .gitignore is not ignored.
      const args = ['check-ignore', '-z', '--stdin'];
      try {
        // check-ignore refuses the `literal` pathspec magic, yet reads a name starting with `:` as
        // magic (`:(glob)x`, `:!y`) and dies. `./NAME` is always a plain path; git echoes it back.
        const r = await exec(args, { readOnly: true, stdin: nulJoin(paths.map((p) => `./${p}`)), okCodes: [1], env: { GIT_LITERAL_PATHSPECS: '0' } });
        for (const p of splitNul(r.stdout.toString('utf8'))) found.add(p.startsWith('./') ? p.slice(2) : p);
      } catch (e) {
        if (!(e instanceof GitError) || e.timedOut) throw e;
        // One path git cannot judge (beyond a symlink, outside the repo) fails the whole call: ask
        // one by one. A path git cannot answer for counts as ignored: held, never let through. One
        // beyond a symbolic link is the exception: git refuses to stage it too, and the committer
        // holds it with git's own words.
        if (paths.length === 1) {
          if (!/beyond a symbolic link/.test(e.stderr)) found.add(paths[0]!);
          return found;
        }
        for (const p of paths) for (const q of await git.ignored([p])) found.add(q);
      }
      return found;
    },

    async tracked(paths) {
      const want = new Set(paths);
      const found = new Set<string>();
      if (want.size === 0) return found;
      const out = await execChunked(['ls-files', '-z', '--cached'], [...want], { readOnly: true });
      for (const p of splitNul(out.toString('utf8'))) if (want.has(p)) found.add(p);
      return found;
    },

    async trackedCount() {
      const r = await exec(['ls-files', '-z', '--cached'], { readOnly: true });
      let n = 0;
      for (const b of r.stdout) if (b === 0) n++;
      return n;
    },

    async indexEntries(paths) {
      const want = new Set(paths);
      const scan = readIndexScan(join(opts.gitDir, 'index'), want);
      if (scan) return scan.entries;
      const out = want.size ? await execChunked(['ls-files', '-s', '-v', '--debug', '-z'], [...want], { readOnly: true }) : Buffer.alloc(0);
      return parseLsFiles(out.toString('utf8'), want);
    },

    headBlob: (path) => blobs.headBlob(path, exec),

    headBlobInfo: (path) => blobs.headBlobInfo(path, exec),

    treeEntries: (treeish, paths) => blobs.treeEntries(treeish, paths, exec),

    async hashFile(path) {
      // git's own hash of the work-tree file, with the path's clean filters (autocrlf, LFS): what
      // `git add` would store. git reads the file; winnow never holds it in memory.
      const r = await exec(['hash-object', '--', path], { readOnly: true });
      return r.stdout.toString('utf8').trim();
    },

    async headSha() {
      const r = await exec(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { readOnly: true, okCodes: [1, 128] });
      const sha = r.stdout.toString('utf8').trim();
      return r.code === 0 && sha ? sha : null;
    },

    async run(steps: GitStep[]) {
      const results: { stdout: string; stderr: string }[] = [];
      for (const s of steps) {
        const args = identityMissing ? [...IDENTITY, ...s.args] : s.args;
        const r = await exec(args, { stdin: s.stdin, env: s.env });
        results.push({ stdout: r.stdout.toString('utf8'), stderr: r.stderr });
      }
      return results;
    },

    async log(max) {
      const r = await exec(['log', `-n${Math.max(1, Math.floor(max))}`, '-z', '--format=%H%x00%ct%x00%s'], {
        readOnly: true,
        okCodes: [128],
      });
      if (r.code !== 0) return []; // unborn branch: no commits yet
      const f = r.stdout.toString('utf8').split('\0');
      const out: { sha: string; at: number; subject: string }[] = [];
      for (let i = 0; i + 2 < f.length; i += 3) out.push({ sha: f[i]!.trim(), at: Number(f[i + 1]) * 1000, subject: f[i + 2]! });
      return out;
    },

    async close() {
      await blobs.close();
    },
  };
  return git;
}

type Exec = (args: string[], o?: ExecOptions) => Promise<ExecResult>;

async function hasIdentity(exec: Exec, env: NodeJS.ProcessEnv): Promise<boolean> {
  const envName = env.GIT_AUTHOR_NAME && env.GIT_COMMITTER_NAME;
  const envEmail = env.GIT_AUTHOR_EMAIL && env.GIT_COMMITTER_EMAIL;
  if (envName && envEmail) return true;
  try {
    // One spawn for both keys (start-up runs a handful of git commands; each costs a spawn).
    const r = await exec(['config', '-z', '--get-regexp', '^user\\.(name|email)$'], { readOnly: true, okCodes: [1] });
    const set = new Set<string>();
    for (const rec of r.stdout.toString('utf8').split('\0')) {
      const nl = rec.indexOf('\n');
      if (nl > 0 && rec.slice(nl + 1).trim() !== '') set.add(rec.slice(0, nl).toLowerCase());
    }
    return Boolean((envName || set.has('user.name')) && (envEmail || set.has('user.email')));
  } catch {
    return false;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

function firstLines(s: string): string {
  const t = s.trim().split('\n').slice(0, 3).join(' ');
  return t || '(no message)';
}

function nulJoin(paths: readonly string[]): string {
  return paths.map((p) => p + '\0').join('');
}

function splitNul(s: string): string[] {
  const parts = s.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

export { chunkPaths };

/**
 * Parses `git status --porcelain=v1 -z`: `XY path\0`, and for renames/copies `XY new\0old\0`.
 */
export function parsePorcelainZ(text: string): StatusEntry[] {
  const f = text.split('\0');
  const out: StatusEntry[] = [];
  for (let i = 0; i < f.length; i++) {
    const rec = f[i]!;
    if (rec.length < 4) continue;
    const code = rec.slice(0, 2);
    const path = rec.slice(3);
    if (code[0] === 'R' || code[0] === 'C' || code[1] === 'R' || code[1] === 'C') {
      out.push({ path, code, from: f[++i] ?? '' });
    } else out.push({ path, code });
  }
  return out;
}

/** A HEAD blob's id and size, without its contents. */
export interface BlobInfo {
  id: string;
  size: number;
}

/**
 * Bytes of stdout received but not yet taken, as a list of chunks: appending a chunk never
 * copies what is already there. (One `Buffer.concat` per chunk was quadratic: a 100 MB blob
 * arrives in ~1,600 chunks of 64 KiB and blocked the event loop for tens of seconds.)
 */
class ChunkQueue {
  private chunks: Buffer[] = [];
  private len = 0;
  /** Bytes of the first chunks already searched for a newline (a header is never searched twice). */
  private scanned = 0;

  get length(): number {
    return this.len;
  }

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.len += b.length;
  }

  clear(): void {
    this.chunks = [];
    this.len = 0;
    this.scanned = 0;
  }

  /** The first line (without its newline), or null when no newline has arrived yet. */
  takeLine(): Buffer | null {
    let offset = 0;
    for (const c of this.chunks) {
      if (offset + c.length > this.scanned) {
        const from = Math.max(0, this.scanned - offset);
        const i = c.indexOf(0x0a, from);
        if (i >= 0) {
          const line = this.take(offset + i + 1);
          return line.subarray(0, line.length - 1);
        }
      }
      offset += c.length;
    }
    this.scanned = offset;
    return null;
  }

  /** The first `n` bytes, copied once into a buffer of their own; null until they have all arrived. */
  takeBytes(n: number): Buffer | null {
    if (this.len < n) return null;
    // Copy even from one chunk: a cached blob must not pin the whole stdout chunk.
    return Buffer.from(this.take(n));
  }

  private take(n: number): Buffer {
    this.scanned = 0;
    this.len -= n;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const c = this.chunks[0]!;
      if (c.length <= need) {
        parts.push(c);
        this.chunks.shift();
        need -= c.length;
      } else {
        parts.push(c.subarray(0, need));
        this.chunks[0] = c.subarray(need);
        need = 0;
      }
    }
    return Buffer.concat(parts, n);
  }
}

/** Entries of a raw tree object: `<mode> <name>\0<raw oid>` repeated; modes as ls-tree prints them (6 digits). */
export function parseTree(body: Buffer, oidBytes: number): { mode: string; name: string; oid: string }[] {
  const out: { mode: string; name: string; oid: string }[] = [];
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    const nul = body.indexOf(0, sp + 1);
    if (sp < 0 || nul < 0 || nul + 1 + oidBytes > body.length) break;
    const mode = body.toString('latin1', i, sp).padStart(6, '0');
    const name = body.toString('utf8', sp + 1, nul);
    const oid = body.toString('hex', nul + 1, nul + 1 + oidBytes);
    out.push({ mode, name, oid });
    i = nul + 1 + oidBytes;
  }
  return out;
}

type Want = { n: number | 'line'; resolve: (b: Buffer) => void; reject: (e: Error) => void };

/**
 * One long-lived `git cat-file --batch-command` (git ≥ 2.36; `--batch` before that): `info
 * HEAD:path` costs a pipe round trip, and contents are fetched only for blob ids not cached yet.
 * Requests run one at a time; the process is restarted if it dies or stops answering.
 */
export class CatFile {
  private proc: ChildProcessWithoutNullStreams | null = null;
  private readonly buf = new ChunkQueue();
  private want: Want | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private mode: 'command' | 'batch' | null = null;
  private readonly cache = new LRUCache<string, Buffer>({
    maxSize: BLOB_CACHE_BYTES,
    sizeCalculation: (b) => Math.max(1, b.length),
  });

  constructor(
    private readonly root: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly timeoutMs: number,
  ) {}

  /** HEAD's blob at `path` with its contents (cached by blob id), or null when absent or not a blob. */
  headBlob(path: string, exec: Exec): Promise<{ id: string; content: Buffer } | null> {
    return this.serial(async () => {
      const info = await this.lookup(path, exec);
      return info ? this.contents(info, exec) : null;
    });
  }

  /** HEAD's blob id and size at `path`, never its contents: a 100 MB blob costs a pipe round trip. */
  headBlobInfo(path: string, exec: Exec): Promise<BlobInfo | null> {
    return this.serial(() => this.lookup(path, exec));
  }

  /**
   * Entries of `treeish` (a commit or tree id) for `paths`: mode and object id of each file,
   * symlink or gitlink, like `ls-tree -r` filtered to them, without a spawn: one `contents`
   * request per distinct parent folder, its tree object parsed here. A path that is a folder or
   * absent is left out. Names with a newline go through ls-tree (the protocol is line-based).
   */
  treeEntries(treeish: string, paths: readonly string[], exec: Exec): Promise<Map<string, { mode: string; oid: string }>> {
    return this.serial(async () => {
      const out = new Map<string, { mode: string; oid: string }>();
      const byDir = new Map<string, Map<string, string>>();
      const odd: string[] = [];
      for (const p of new Set(paths)) {
        if (/[\n\r]/.test(p) || p === '' || p.startsWith('/') || p.endsWith('/')) {
          odd.push(p);
          continue;
        }
        const i = p.lastIndexOf('/');
        const dir = i < 0 ? '' : p.slice(0, i);
        let names = byDir.get(dir);
        if (!names) byDir.set(dir, (names = new Map()));
        names.set(i < 0 ? p : p.slice(i + 1), p);
      }
      const mode = await this.ensure(exec);
      if (mode === 'batch') odd.push(...[...byDir.values()].flatMap((m) => [...m.values()]));
      else {
        for (const [dir, names] of byDir) {
          const spec = dir === '' ? `${treeish}^{tree}` : `${treeish}:${dir}`;
          const header = (await this.request(`contents ${spec}\n`, 'line')).toString('utf8');
          const m = /^([0-9a-f]+) (\S+) (\d+)$/.exec(header);
          if (!m) continue; // missing: the folder is not in that tree
          const body = await this.read(Number(m[3]) + 1);
          if (m[2] !== 'tree') continue;
          for (const e of parseTree(body.subarray(0, Number(m[3])), m[1]!.length / 2)) {
            const path = names.get(e.name);
            if (path !== undefined && e.mode !== '040000') out.set(path, { mode: e.mode, oid: e.oid });
          }
        }
      }
      for (const c of chunkPaths(odd, ARGV_CHUNK_BYTES)) {
        if (c.length === 0) continue;
        const r = await exec(['ls-tree', '-r', '-z', '--full-tree', treeish, '--', ...c], { readOnly: true });
        const want = new Set(c);
        for (const rec of r.stdout.toString('utf8').split('\0')) {
          const tab = rec.indexOf('\t');
          const [md, , oid] = rec.slice(0, tab).split(' ');
          const path = rec.slice(tab + 1);
          if (tab > 0 && md && oid && want.has(path)) out.set(path, { mode: md, oid });
        }
      }
      return out;
    });
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async lookup(path: string, exec: Exec): Promise<BlobInfo | null> {
    if (/[\n\r]/.test(path) || (await this.ensure(exec)) === 'batch') {
      // The batch protocol is line-based, and `--batch` (git < 2.36) has no `info`: ask ls-tree
      // (NUL-terminated, with the size) for this blob's id.
      const r = await exec(['ls-tree', '-z', '-l', '--full-tree', 'HEAD', '--', path], { readOnly: true, okCodes: [128] });
      const m = /^\d+ blob ([0-9a-f]+) +(\d+)\t/.exec(r.stdout.toString('utf8'));
      if (r.code !== 0 || !m) return null;
      return { id: m[1]!, size: Number(m[2]) };
    }
    const header = (await this.request(`info HEAD:${path}\n`, 'line')).toString('utf8');
    const m = /^([0-9a-f]+) (\S+) (\d+)$/.exec(header);
    if (!m || m[2] !== 'blob') return null; // "missing", "ambiguous", or a tree
    return { id: m[1]!, size: Number(m[3]) };
  }

  private async contents(info: BlobInfo, exec: Exec): Promise<{ id: string; content: Buffer } | null> {
    const hit = this.cache.get(info.id);
    if (hit) return { id: info.id, content: hit };
    const mode = await this.ensure(exec);
    const header = (await this.request(`${mode === 'command' ? 'contents ' : ''}${info.id}\n`, 'line')).toString('utf8');
    const m = /^([0-9a-f]+) (\S+) (\d+)$/.exec(header);
    if (!m) return null;
    const size = Number(m[3]);
    const body = await this.read(size + 1); // contents, then a newline
    if (m[2] !== 'blob') return null;
    const content = body.subarray(0, size);
    this.cache.set(m[1]!, content);
    return { id: m[1]!, content };
  }

  private async ensure(exec: Exec): Promise<'command' | 'batch'> {
    if (this.mode === null) {
      const v = (await exec(['version'], { readOnly: true })).stdout.toString('utf8');
      const m = /(\d+)\.(\d+)/.exec(v);
      const [maj, min] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
      this.mode = maj > 2 || (maj === 2 && min >= 36) ? 'command' : 'batch';
    }
    if (this.proc) return this.mode;
    const proc = spawn('git', ['cat-file', this.mode === 'command' ? '--batch-command' : '--batch'], {
      cwd: this.root,
      env: this.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.buf.clear();
    proc.stdout.on('data', (b: Buffer) => {
      if (this.proc !== proc) return;
      this.buf.push(b);
      this.pump();
    });
    proc.stderr.resume();
    proc.stdin.on('error', () => undefined);
    const onGone = (why: string) => {
      if (this.proc !== proc) return;
      this.proc = null;
      const w = this.want;
      this.want = null;
      w?.reject(new GitError(['cat-file', '--batch'], null, why, false));
    };
    proc.on('error', (e) => onGone(e.message));
    proc.on('close', (code) => onGone(`git cat-file exited (${code})`));
    return this.mode;
  }

  private request(line: string, n: number | 'line'): Promise<Buffer> {
    const proc = this.proc;
    if (!proc) return Promise.reject(new GitError(['cat-file'], null, 'git cat-file is not running', false));
    const p = this.read(n);
    proc.stdin.write(line);
    return p;
  }

  private read(n: number | 'line'): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // No answer in time: the process is wedged. Kill it; the next request starts a new one.
        const proc = this.proc;
        this.proc = null;
        this.want = null;
        proc?.kill('SIGKILL');
        reject(new GitError(['cat-file', '--batch'], null, '', true));
      }, this.timeoutMs);
      this.want = {
        n,
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.pump();
    });
  }

  private pump(): void {
    const w = this.want;
    if (!w) return;
    const got = w.n === 'line' ? this.buf.takeLine() : this.buf.takeBytes(w.n);
    if (got === null) return;
    this.want = null;
    w.resolve(got);
  }

  async close(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc) return;
    await new Promise<void>((resolve) => {
      proc.once('close', () => resolve());
      proc.stdin.end();
      setTimeout(() => proc.kill('SIGKILL'), KILL_GRACE_MS).unref();
    });
  }
}
