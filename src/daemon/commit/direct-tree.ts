/**
 * A batch's tree without reading an index of the whole workspace (issue 14): the batch's paths are
 * staged in a tiny index of their own (`<state>/batch-index`, rebuilt per batch), so `update-index`
 * applies every rule it applies today (clean filters and git-lfs, eol, executable bits, symlinks,
 * nested repositories as gitlinks, names it refuses); its entries are read in-process, and only the
 * trees on the paths from them to the root are built (core/commit/trees.ts) from HEAD's, read
 * through the long-lived cat-file and kept by id, then written with one `git mktree --batch`.
 *
 * At 100k files the private index's `update-index` and `write-tree` each read ~8.8 MB (~170 ms
 * each on a loaded machine); here both cost a spawn on a few entries.
 *
 * Whatever this way cannot show to be the same as the private index's answer is given back as a
 * reason, and the batch goes through the private index (private-index.ts) as before: a file that
 * became a folder or the reverse, an executable or symlink entry of HEAD that comes back with
 * another mode (`core.fileMode` or `core.symlinks` false keep HEAD's mode in an index that has
 * the entry, and this one does not), a path staged or left out against what prepare saw, a tree
 * id git names otherwise.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Fs, Git, GitStep, Logger } from '../../ports/index.js';
import type { CommitPlan } from '../../core/commit/plan.js';
import type { Entry, PrivateIndexAt } from '../../core/commit/plumbing.js';
import { scanIndex } from '../../core/commit/index-file.js';
import { ignoredByUpdateIndex } from '../../core/commit/names.js';
import { buildTrees, entriesAt, foldersOf, isTreeMode, mktreeInput, parseRawTree, type OldTree } from '../../core/commit/trees.js';
import { pathspecStdin } from '../../core/commit/plan.js';
import type { HeadFacts } from './private-index.js';
import { scannedCorrections } from './scanned-bytes.js';
import type { Scanned } from './scan.js';

/** Trees kept by id (HEAD's, and the ones written here): the root tree of 100k files in 1,000 folders is ~30 KB. */
const TREE_CACHE_BYTES = 4 * 1024 * 1024;

export const BATCH_INDEX_FILE = 'batch-index';

export type DirectResult = { tree: string; entries: Map<string, Entry | null> } | { fallback: string };

export class DirectTree {
  private readonly cache = new Map<string, { entries: OldTree['entries']; bytes: number }>();
  private cached = 0;
  private readonly batchIndex: string;

  constructor(
    private readonly deps: {
      git: Git;
      fs: Fs;
      logger: Logger;
      stateDir: string;
      /** Where the private index's git directory is: the batch index uses the same one. */
      where(): Promise<PrivateIndexAt>;
    },
  ) {
    this.batchIndex = join(deps.stateDir, BATCH_INDEX_FILE);
  }

  /** True when HEAD's trees can be read here (the git adapter keeps a cat-file). */
  get available(): boolean {
    return typeof this.deps.git.readTree === 'function';
  }

  /** Entries of `paths` in `tree` (HEAD's tree id), from the cached trees; null when a tree cannot be read. */
  async entries(tree: string, paths: readonly string[]): Promise<Map<string, Entry> | null> {
    const trees = await this.treesOf(tree, foldersOf(paths));
    return trees ? entriesAt(paths, (d) => trees.get(d)) : null;
  }

  /**
   * The batch's tree on HEAD (`facts`): the tree id and each path's new entry (null: removed), or
   * why the private index must make this one.
   */
  async build(
    plan: CommitPlan,
    facts: HeadFacts,
    scanned: ReadonlyMap<string, Scanned>,
    hold: (path: string, reason: string) => void,
  ): Promise<DirectResult> {
    const { git } = this.deps;
    if (!this.available || !git.mktree) return { fallback: 'no long-lived git to read HEAD\'s trees and write new ones' };
    const staged = await this.stage(plan.paths);
    if ('fallback' in staged) return staged;
    const refused = new Set(ignoredByUpdateIndex(staged.stderr, plan.paths));
    for (const p of refused) hold(p, 'git refused the name ("Ignoring path" from update-index): never committed; rename it');
    const gone = new Set(plan.deletions);
    const changes = new Map<string, Entry | null>();
    const got = new Map<string, Entry>();
    for (const p of plan.paths) {
      if (refused.has(p)) continue;
      const e = staged.entries.get(p);
      const h = facts.entries.get(p);
      if (e === 'conflict') return { fallback: `${p} staged in conflict` };
      if (!e) {
        if (!gone.has(p)) return { fallback: `${p} was not staged` };
        changes.set(p, null);
        continue;
      }
      if (gone.has(p)) return { fallback: `${p} came back while it was committed` };
      // core.fileMode / core.symlinks false: an index holding HEAD's entry keeps its mode.
      if (h && (h.mode === '100755' || h.mode === '120000') && e.mode !== h.mode) return { fallback: `${p} changed mode from ${h.mode} to ${e.mode}` };
      got.set(p, { mode: e.mode, oid: e.oid });
      changes.set(p, { mode: e.mode, oid: e.oid });
    }
    const fixes = await scannedCorrections(git, [...got.keys()].filter((p) => scanned.has(p)), got, facts.entries, scanned, hold);
    for (const [p, e] of fixes) changes.set(p, e);
    const format = facts.head ? (facts.head.tree.length === 64 ? 'sha256' : 'sha1') : await git.objectFormat();
    const trees = facts.head ? await this.treesOf(facts.head.tree, foldersOf(changes.keys())) : new Map<string, OldTree | null>([['', null]]);
    if (!trees) return { fallback: 'a tree of HEAD could not be read' };
    const built = buildTrees(changes, (d) => (facts.head ? trees.get(d) : d === '' ? null : trees.get(d) ?? null), (body) => treeOid(format, body));
    if ('conflict' in built) return { fallback: built.conflict };
    if (built.writes.length) {
      const ids = await git.mktree(mktreeInput(built.writes), built.writes.length);
      for (let i = 0; i < built.writes.length; i++) {
        const w = built.writes[i]!;
        if (ids[i] !== w.oid) return { fallback: `git wrote the tree of ${w.dir || 'the root'} as ${ids[i] ?? 'nothing'}, not ${w.oid}` };
        this.remember(w.oid, w.entries, w.body.length);
      }
    }
    return { tree: built.root, entries: changes };
  }

  /** `update-index` of `paths` on an empty batch index, its entries read back in-process. */
  private async stage(paths: readonly string[]): Promise<{ entries: Map<string, Entry | 'conflict'>; stderr: string } | { fallback: string }> {
    const { fs, git } = this.deps;
    const at = await this.deps.where();
    // Only this daemon (it holds daemon.lock) uses the batch index: a lock left there belongs to a
    // git it started and lost (a timeout's SIGKILL), and would send every later batch the slow way.
    await fs.remove(`${this.batchIndex}.lock`);
    await fs.remove(this.batchIndex);
    let stderr = '';
    try {
      [{ stderr }] = (await git.run([batchUpdateStep(at, this.batchIndex, paths)])) as [{ stdout: string; stderr: string }];
      // Nothing staged (deletions only): git writes no index at all.
      const buf = await fs.readFile(this.batchIndex).catch(() => null);
      if (!buf) return { entries: new Map(), stderr };
      const scan = scanIndex((pos, len) => buf.subarray(pos, pos + len), buf.length, new Set(paths));
      if (!scan) return { fallback: 'the batch index could not be read here' };
      return { entries: scan.entries, stderr };
    } catch (e) {
      return { fallback: `update-index on the batch index failed: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n')[0]}` };
    } finally {
      await fs.remove(this.batchIndex).catch(() => undefined);
    }
  }

  /** HEAD's trees of `dirs` under root tree `root` (null: the folder is not in it); null when one cannot be read. */
  private async treesOf(root: string, dirs: readonly string[]): Promise<Map<string, OldTree | null> | null> {
    const out = new Map<string, OldTree | null>();
    const get = async (dir: string): Promise<OldTree | null | undefined> => {
      if (out.has(dir)) return out.get(dir);
      let t: OldTree | null | undefined;
      if (dir === '') t = await this.read(root);
      else {
        const i = dir.lastIndexOf('/');
        const parent = await get(i < 0 ? '' : dir.slice(0, i));
        if (parent === undefined) return undefined;
        const name = Buffer.from(i < 0 ? dir : dir.slice(i + 1), 'utf8');
        const e = parent?.entries.find((x) => x.name.equals(name));
        t = e && isTreeMode(e.mode) ? await this.read(e.oid) : null;
      }
      if (t === undefined) return undefined;
      out.set(dir, t);
      return t;
    };
    for (const d of dirs) if ((await get(d)) === undefined) return null;
    return out;
  }

  /** A tree by id: from the cache, else through cat-file; undefined when it cannot be read. */
  private async read(oid: string): Promise<OldTree | undefined> {
    const hit = this.cache.get(oid);
    if (hit) {
      this.cache.delete(oid);
      this.cache.set(oid, hit);
      return { oid, entries: hit.entries };
    }
    const body = await this.deps.git.readTree!(oid).catch(() => null);
    if (!body) return undefined;
    const entries = parseRawTree(body, oid.length / 2);
    if (!entries) return undefined;
    this.remember(oid, entries, body.length);
    return { oid, entries };
  }

  private remember(oid: string, entries: OldTree['entries'], bytes: number): void {
    if (this.cache.has(oid)) return;
    this.cache.set(oid, { entries, bytes });
    this.cached += bytes;
    for (const [k, v] of this.cache) {
      if (this.cached <= TREE_CACHE_BYTES) break;
      this.cache.delete(k);
      this.cached -= v.bytes;
    }
  }
}

/** A tree object's id: git's hash of `tree <size>\0<body>`. */
export function treeOid(format: 'sha1' | 'sha256', body: Buffer): string {
  return objectOid(format, 'tree', body);
}

/** An object's id: git's hash of `<type> <size>\0<body>`. */
export function objectOid(format: 'sha1' | 'sha256', type: 'blob' | 'tree' | 'commit', body: Buffer): string {
  return createHash(format === 'sha256' ? 'sha256' : 'sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
}

/**
 * Stages exactly `paths` into the batch index (`file`, absent before: empty), in the private
 * index's git directory. Never split (its entries are read here), whatever the repository says.
 */
export function batchUpdateStep(at: PrivateIndexAt, file: string, paths: readonly string[]): GitStep {
  const env: Record<string, string> =
    typeof at === 'string' ? { GIT_INDEX_FILE: file } : { GIT_INDEX_FILE: file, GIT_DIR: at.gitDir, GIT_WORK_TREE: at.workTree };
  return {
    args: ['-c', 'core.splitIndex=false', 'update-index', '--add', '--remove', '-z', '--stdin'],
    stdin: pathspecStdin(paths),
    env: { ...env, GIT_LITERAL_PATHSPECS: '1' },
  };
}
