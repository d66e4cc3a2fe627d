/**
 * HEAD's blobs and trees through one long-lived `git cat-file --batch-command`: layer 3 reads the
 * committed version of every changed file, and the committer reads the trees of the paths it
 * commits, each for a pipe round trip instead of a spawn.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { LRUCache } from 'lru-cache';
import type { GitRunner } from '../ports/index.js';
import { chunkPaths } from '../core/commit/plumbing.js';
import { GitError, KILL_GRACE_MS, awaitAnswer } from './git-spawn.js';

/** Bytes of pathspec argv per spawn; far under Linux's 2 MiB ARG_MAX and Windows' 32 KiB command line. */
export const ARGV_CHUNK_BYTES = 24 * 1024;
/**
 * Blob contents kept in memory, by blob id (layer 3 compares against HEAD on every change). Sized
 * for the files layer 3 reads whole (JSON up to `json.maxBytes`, small text): larger files are
 * compared by hash and never enter it. It counts towards the RSS targets (≤ 64 MB at 10k files).
 */
const BLOB_CACHE_BYTES = 8 * 1024 * 1024;

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
  headBlob(path: string, exec: GitRunner): Promise<{ id: string; content: Buffer } | null> {
    return this.serial(async () => {
      const info = await this.lookup(path, exec);
      return info ? this.contents(info, exec) : null;
    });
  }

  /** HEAD's blob id and size at `path`, never its contents: a 100 MB blob costs a pipe round trip. */
  headBlobInfo(path: string, exec: GitRunner): Promise<BlobInfo | null> {
    return this.serial(() => this.lookup(path, exec));
  }

  /**
   * Entries of `treeish` (a commit or tree id) for `paths`: mode and object id of each file,
   * symlink or gitlink, like `ls-tree -r` filtered to them, without a spawn: one `contents`
   * request per distinct parent folder, its tree object parsed here. A path that is a folder or
   * absent is left out. Names with a newline go through ls-tree (the protocol is line-based).
   */
  treeEntries(treeish: string, paths: readonly string[], exec: GitRunner): Promise<Map<string, { mode: string; oid: string }>> {
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

  /**
   * The raw body of the tree `spec` names (a tree id, or `<commit>^{tree}`), or null when it is
   * missing or not a tree: the committer builds a commit's trees from HEAD's (core/commit/trees.ts).
   */
  tree(spec: string, exec: GitRunner): Promise<Buffer | null> {
    return this.object(spec, exec).then((o) => (o?.type === 'tree' ? o.body : null));
  }

  /** The object `spec` names (an id, a ref, `<rev>:<path>`): its id, type and raw body; null when missing. */
  object(spec: string, exec: GitRunner): Promise<{ id: string; type: string; body: Buffer } | null> {
    return this.serial(async () => {
      if (/[\n\r]/.test(spec)) return null;
      const mode = await this.ensure(exec);
      const header = (await this.request(`${mode === 'command' ? 'contents ' : ''}${spec}\n`, 'line')).toString('utf8');
      const m = /^([0-9a-f]+) (\S+) (\d+)$/.exec(header);
      if (!m) return null; // missing
      const body = await this.read(Number(m[3]) + 1);
      return { id: m[1]!, type: m[2]!, body: body.subarray(0, Number(m[3])) };
    });
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async lookup(path: string, exec: GitRunner): Promise<BlobInfo | null> {
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

  private async contents(info: BlobInfo, exec: GitRunner): Promise<{ id: string; content: Buffer } | null> {
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

  private async ensure(exec: GitRunner): Promise<'command' | 'batch'> {
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
      const expired = () => {
        const proc = this.proc;
        this.proc = null;
        this.want = null;
        proc?.kill('SIGKILL');
        return new GitError(['cat-file', '--batch'], null, '', true);
      };
      this.want = { n, ...awaitAnswer(this.timeoutMs, expired, { resolve, reject }) };
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
