/**
 * The `Git` port on plain `child_process.spawn` (git-spawn.ts), not simple-git: its fixed wait
 * after silent commands costs more than a commit (docs/dependencies.md).
 *
 * Pathspecs always follow `--` (in argv chunks under the argv limit) or go through stdin with
 * `--pathspec-from-file=- --pathspec-file-nul`. HEAD's blobs come from one long-lived cat-file
 * (git-cat-file.ts).
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Git, GitCall, GitRunner, GitStep, Logger, ObjectFormat, RepoBlock, StatusEntry } from '../ports/index.js';
import { chunkPaths, parseLsFiles } from '../core/commit/plumbing.js';
import { OBJECT_FORMAT_ARGS, parseObjectFormat } from '../core/git/object-format.js';
import { GitError, createGitRunner, gitEnv } from './git-spawn.js';
import { looseObjectWriter, type ObjectWriter } from './loose-objects.js';
import { ARGV_CHUNK_BYTES, CatFile } from './git-cat-file.js';
import { GitSession, afterLines, afterMarker } from './git-session.js';
import { NO_INDEX_FILE, numstatInput, numstatOutput, numstatStdinStep } from '../core/commit/history-steps.js';
import { IndexReader, replaceIndexEntries } from './index-file.js';

export { GitError, createGitRunner, chunkPaths };

export interface GitOptions {
  gitDir: string;
  stateDir: string;
  timeoutMs: number;
  hooks: boolean;
  logger?: Logger;
  /** Start the long-lived mktree and diff-tree now (the daemon), not on the first commit. */
  commits?: boolean;
}

const IDENTITY = ['-c', 'user.name=winnow', '-c', 'user.email=winnow@localhost'];

/** Runs `args -- <chunk>` for each argv chunk of `paths`, concatenating stdout. */
async function runChunked(exec: GitRunner, args: string[], paths: readonly string[], o: GitCall): Promise<Buffer> {
  const outs: Buffer[] = [];
  for (const chunk of chunkPaths(paths, ARGV_CHUNK_BYTES)) outs.push((await exec([...args, '--', ...chunk], o)).stdout);
  return Buffer.concat(outs);
}

export async function createGit(root: string, opts: GitOptions): Promise<Git> {
  const env = gitEnv();
  const timeoutMs = opts.timeoutMs;
  const exec = createGitRunner(root, { timeoutMs });

  const execChunked = (args: string[], paths: readonly string[], o: GitCall) => runChunked(exec, args, paths, o);
  const identityMissing = !(await hasIdentity(exec, env));
  if (!opts.hooks) await mkdir(join(opts.stateDir, 'hooks-empty'), { recursive: true, mode: 0o700 });

  const blobs = new CatFile(root, { ...env, GIT_OPTIONAL_LOCKS: '0' }, timeoutMs);
  const trees = new GitSession(['mktree', '-z', '--batch'], { cwd: root, env, timeoutMs });
  // diff-tree echoes a line that is not an object id: that line ends each answer.
  const marker = `winnow-end ${randomBytes(8).toString('hex')}\n`;
  const numstatStep = numstatStdinStep(join(opts.stateDir, NO_INDEX_FILE));
  const diffs = new GitSession(numstatStep.args, { cwd: root, env: { ...env, ...numstatStep.env }, timeoutMs });
  if (opts.commits) for (const s of [trees, diffs]) s.warm();
  const person = new PersonIndex(opts.gitDir, exec);

  let format: Promise<ObjectFormat> | null = null;
  let writer: Promise<ObjectWriter> | null = null;
  const objectWriter = () => (writer ??= git.objectFormat().then((f) => looseObjectWriter(exec, root, f)));

  const git: Git = {
    root,
    gitDir: opts.gitDir,

    blocked: (paths) => repoBlock(opts.gitDir, () => person.unmerged(paths ?? [])),

    async status(): Promise<StatusEntry[]> {
      const r = await exec(['status', '--porcelain=v1', '-z', '--untracked-files=all'], { readOnly: true });
      return parsePorcelainZ(r.stdout.toString('utf8'));
    },

    async ignored(paths) {
      const { matched, unsure } = await checkIgnore(exec, paths);
      if (matched.size) {
        // A tracked file that matches .gitignore is not ignored. check-ignore runs with --no-index
        // (it read the person's whole index for that, ~8 MB at 100k files, per classified batch);
        // the few paths it names are looked up in the index here.
        const tracked = person.scan(matched)?.entries.keys() ?? (await git.tracked([...matched]));
        for (const p of tracked) matched.delete(p);
      }
      for (const p of unsure) matched.add(p);
      return matched;
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
      const scan = person.scan(want);
      if (scan) return scan.entries;
      const out = want.size ? await execChunked(['ls-files', '-s', '-v', '--debug', '-z'], [...want], { readOnly: true }) : Buffer.alloc(0);
      return parseLsFiles(out.toString('utf8'), want);
    },

    prefetchIndex: (paths) => person.prefetch(paths),
    replaceIndexEntries: (paths, decide) => replaceIndexEntries(join(opts.gitDir, 'index'), join(opts.stateDir, 'index.next'), paths, decide, person.reader),

    headBlob: (path) => blobs.headBlob(path, exec),

    headBlobInfo: (path) => blobs.headBlobInfo(path, exec),

    treeEntries: (treeish, paths) => blobs.treeEntries(treeish, paths, exec),

    readTree: (spec) => blobs.tree(spec, exec),

    readObject: (spec) => blobs.object(spec, exec),

    writeObject: (type, body) => objectWriter().then((w) => w.write(type, body)),

    prepareObjects: () => objectWriter().then(() => true, () => false),

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
        const r = await exec(args, { input: s.stdin, env: s.env });
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

    async objectFormat() {
      format ??= exec([...OBJECT_FORMAT_ARGS], { readOnly: true }).then((r) => parseObjectFormat(r.stdout.toString('utf8')));
      // A failed answer is asked again next time, never remembered.
      return format.catch((e: unknown) => {
        format = null;
        throw e;
      });
    },

    raw: exec,

    async mktree(input, count) {
      // The last tree ends with an empty record too: mktree writes a tree when its record ends.
      const out = await trees.ask(Buffer.concat([input, Buffer.from([0])]), afterLines(count));
      return out.toString('utf8').split('\n').filter(Boolean);
    },

    async numstat(oldTree, tree) {
      const out = (await diffs.ask(numstatInput(oldTree, tree) + marker, afterMarker(marker))).toString('utf8');
      return numstatOutput(out.slice(0, -marker.length));
    },

    async close() {
      await Promise.all([blobs.close(), trees.close(), diffs.close()]);
    },
  };
  return git;
}

/**
 * Why commits must wait now (SPEC "Committer": a merge, rebase, cherry-pick, revert or bisect in
 * progress, a detached HEAD, unmerged entries), or null.
 */
async function repoBlock(g: string, unmerged: () => Promise<boolean>): Promise<RepoBlock | null> {
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
}

/**
 * The person's index read in-process (adapters/index-file.ts); an unchanged file is not read again,
 * and one read answers both the unmerged check and the batch's entries when `unmerged` is given
 * the batch's paths (one pass over a 100k-entry index per commit instead of two).
 */
class PersonIndex {
  readonly reader: IndexReader;
  /** The index file's identity when git was last asked about it, and the answer. */
  private unmergedSeen: { key: string; answer: boolean } | null = null;
  /** Paths of a prefetch scan not yet run. */
  private prefetching: Set<string> | null = null;

  constructor(
    private readonly gitDir: string,
    private readonly exec: GitRunner,
  ) {
    this.reader = new IndexReader(join(gitDir, 'index'));
  }

  scan(want: ReadonlySet<string>) {
    return this.reader.scan(want);
  }

  /**
   * Scans for `paths` soon, and checks the file's hash: off the caller's turn, one scan for the
   * calls made in the meantime, so that the commit after the batch finds both done.
   */
  prefetch(paths: readonly string[]): void {
    if (this.prefetching) {
      for (const p of paths) this.prefetching.add(p);
      return;
    }
    const want = (this.prefetching = new Set(paths));
    setImmediate(() => {
      this.prefetching = null;
      this.reader.scan(want);
      this.reader.verify();
    });
  }

  async unmerged(paths: readonly string[]): Promise<boolean> {
    const st = await stat(join(this.gitDir, 'index')).catch(() => null);
    if (!st) return false;
    const key = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    if (this.unmergedSeen?.key === key) return this.unmergedSeen.answer;
    // Read in-process when the format allows (every commit rewrites the index, so this runs per
    // commit), looking for the batch's paths in the same pass.
    const scan = this.reader.scan(new Set(paths));
    if (scan) return scan.unmerged;
    // git cannot read the index (the work tree moved away): other checks say why; not cached.
    const r = await this.exec(['ls-files', '-u', '-z'], { readOnly: true }).catch(() => null);
    if (!r) return false;
    this.unmergedSeen = { key, answer: r.stdout.length > 0 };
    return this.unmergedSeen.answer;
  }
}

/**
 * `check-ignore --no-index` of `paths`: those the ignore rules match (tracked or not), and those
 * git could not judge (they count as ignored: held, never let through).
 */
async function checkIgnore(exec: GitRunner, paths: readonly string[]): Promise<{ matched: Set<string>; unsure: Set<string> }> {
  const matched = new Set<string>();
  const unsure = new Set<string>();
  if (paths.length === 0) return { matched, unsure };
  const args = ['check-ignore', '--no-index', '-z', '--stdin'];
  try {
    // check-ignore refuses the `literal` pathspec magic, yet reads a name starting with `:` as
    // magic (`:(glob)x`, `:!y`) and dies. `./NAME` is always a plain path; git echoes it back.
    const r = await exec(args, { readOnly: true, input: nulJoin(paths.map((p) => `./${p}`)), okCodes: [1], env: { GIT_LITERAL_PATHSPECS: '0' } });
    for (const p of splitNul(r.stdout.toString('utf8'))) matched.add(p.startsWith('./') ? p.slice(2) : p);
  } catch (e) {
    if (!(e instanceof GitError) || e.timedOut) throw e;
    // One path git cannot judge (beyond a symlink, outside the repo) fails the whole call: ask
    // one by one. One beyond a symbolic link is not held here: git refuses to stage it too, and
    // the committer holds it with git's own words.
    if (paths.length === 1) {
      if (!/beyond a symbolic link/.test(e.stderr)) unsure.add(paths[0]!);
      return { matched, unsure };
    }
    for (const p of paths) {
      const one = await checkIgnore(exec, [p]);
      for (const q of one.matched) matched.add(q);
      for (const q of one.unsure) unsure.add(q);
    }
  }
  return { matched, unsure };
}

async function hasIdentity(exec: GitRunner, env: NodeJS.ProcessEnv): Promise<boolean> {
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

function nulJoin(paths: readonly string[]): string {
  return paths.map((p) => p + '\0').join('');
}

function splitNul(s: string): string[] {
  const parts = s.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

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

