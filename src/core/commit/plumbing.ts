/**
 * The index-plumbing commit path, as data (STYLE.md habit 5): argv for each step, parsers for what
 * git prints, and the real-index update the commit needs. The committer runs the steps.
 *
 * Why plumbing: `git commit --only` reads, rewrites and hashes the whole index twice (a temporary
 * one and the person's), ~130 ms at 50k tracked files. A private index kept equal to HEAD, split
 * (`core.splitIndex`, for that file only: the person's repo config is never touched) so that a
 * write costs the changed entries and not 4 MB, commits one path in a few spawns:
 *
 *   update-index --add --remove (private) → write-tree (private) → commit-tree → update-ref (CAS)
 *   → the person's index, for the batch's paths only, where it still holds the old HEAD entry.
 *
 * Plumbing runs no hooks: with `commit.hooks` true the committer keeps the porcelain path.
 */
import type { GitStep } from '../../ports/index.js';
import { pathspecStdin } from './plan.js';
import { EMPTY_TREES, formatOfOid, nullOid } from '../git/object-format.js';

/** One index or tree entry: mode and object id (`100644`, `120000` for a symlink, `160000` for a gitlink). */
export interface Entry {
  mode: string;
  oid: string;
}

/**
 * What the commit-journal file holds (`<stateDir>/commit-journal.json`), written just before
 * `update-ref`: if the process dies after the ref moved, the start-up finishes the person's index
 * for `paths`; if the ref never moved (HEAD still `old`), the journal is dropped.
 */
export interface CommitJournal {
  version: 1;
  /** HEAD before the commit; null on an unborn branch. */
  old: string | null;
  new: string;
  paths: string[];
}

/** The same config for every command on the private index: split, so writes cost the change only. */
const PRIVATE = ['-c', 'core.splitIndex=true'];
const LITERAL = { GIT_LITERAL_PATHSPECS: '1' };
const READ_ONLY = { GIT_OPTIONAL_LOCKS: '0', GIT_LITERAL_PATHSPECS: '1' };

/** Bytes of pathspec argv per spawn (ls-tree and ls-files take no pathspec file); far under ARG_MAX. */
export const ARGV_CHUNK_BYTES = 24 * 1024;

/**
 * Where the private index lives. A file path alone: git's own directory keeps the split index's
 * shared half (`sharedindex.*`, written by git with the umask's mode next to the repository's
 * files). With `gitDir`, a directory of winnow's state that git takes for a linked worktree's
 * (a `commondir` file naming the repository: objects, refs and config are the repository's), the
 * shared half is written there, private (issue 11 case 18). `workTree` is then given explicitly,
 * so a `core.worktree` in the repository's config is never read relative to the wrong directory.
 */
export type PrivateIndexAt = string | { file: string; gitDir: string; workTree: string };

function privateEnv(at: PrivateIndexAt): Record<string, string> {
  if (typeof at === 'string') return { GIT_INDEX_FILE: at, ...LITERAL };
  return { GIT_INDEX_FILE: at.file, GIT_DIR: at.gitDir, GIT_WORK_TREE: at.workTree, ...LITERAL };
}

/** Splits `paths` into runs whose argv bytes stay under `maxBytes`. */
export function chunkPaths(paths: readonly string[], maxBytes = ARGV_CHUNK_BYTES): string[][] {
  const chunks: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const p of paths) {
    const n = Buffer.byteLength(p) + 1;
    if (cur.length && size + n > maxBytes) {
      chunks.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(p);
    size += n;
  }
  if (cur.length) chunks.push(cur);
  return chunks;
}

/** `rev-parse` of HEAD's commit and tree; exits 128 or prints nothing on an unborn branch. */
export function headStep(): GitStep {
  return { args: ['rev-parse', 'HEAD^{commit}', 'HEAD^{tree}'], env: READ_ONLY };
}

/** `[commit, tree]` from `headStep`'s output, or null (unborn branch). */
export function parseHead(stdout: string): { commit: string; tree: string } | null {
  const [commit, tree] = stdout.trim().split('\n');
  return commit && tree ? { commit, tree } : null;
}

/** Entries of `treeish` for `paths` (recursive, so a path is a file, link or gitlink entry). */
export function lsTreeSteps(treeish: string, paths: readonly string[]): GitStep[] {
  return chunkPaths(paths).map((c) => ({ args: ['ls-tree', '-r', '-z', '--full-tree', treeish, '--', ...c], env: READ_ONLY }));
}

/** Parses `ls-tree -z` (`mode type oid\tpath\0`), keeping only `want` (a directory's files are not it). */
export function parseLsTree(stdout: string, want?: ReadonlySet<string>): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const rec of stdout.split('\0')) {
    const tab = rec.indexOf('\t');
    if (tab < 0) continue;
    const [mode, , oid] = rec.slice(0, tab).split(' ');
    const path = rec.slice(tab + 1);
    if (mode && oid && (!want || want.has(path))) out.set(path, { mode, oid });
  }
  return out;
}

/**
 * An entry of the person's index, with the flags that say it is not theirs to lose: a sparse
 * checkout's skip-worktree entry (absent from disk by design), an assume-unchanged one, and an
 * intent-to-add placeholder (`git add -N`: the empty blob, standing for "not added yet").
 */
/**
 * The paths of `paths` whose entry in a commit (`after`) differs from its parent's (`before`):
 * what the commit changed. A batch also holds paths saved with the same bytes (an editor's save
 * without an edit, a `touch`); they are not named as the commit's.
 */
export function changedPaths(paths: readonly string[], before: ReadonlyMap<string, Entry>, after: ReadonlyMap<string, Entry>): string[] {
  return paths.filter((p) => {
    const a = before.get(p);
    const b = after.get(p);
    return a?.oid !== b?.oid || a?.mode !== b?.mode;
  });
}

export interface IndexEntry extends Entry {
  intentToAdd?: boolean;
  skipWorktree?: boolean;
  assumeUnchanged?: boolean;
}

/** `ce_flags` bits git prints with `ls-files --debug` (cache.h): CE_VALID, CE_INTENT_TO_ADD, CE_SKIP_WORKTREE. */
const CE_VALID = 0x8000;
const CE_INTENT_TO_ADD = 1 << 29;
const CE_SKIP_WORKTREE = 1 << 30;

/**
 * The person's index entries for `paths` (read-only: never takes index.lock), with their tag
 * (`-v`: `S` skip-worktree, lowercase assume-unchanged) and flags (`--debug`: intent-to-add).
 */
export function lsFilesSteps(paths: readonly string[]): GitStep[] {
  return chunkPaths(paths).map((c) => ({ args: ['ls-files', '-s', '-v', '--debug', '-z', '--', ...c], env: READ_ONLY }));
}

/**
 * Parses `ls-files -s -z` (`mode oid stage\tpath\0`), with or without `-v` (a tag and a space
 * first) and `--debug` (indented lines after each NUL, one of them `flags: HEX`). A path with a
 * conflict (stages 1–3) maps to 'conflict': the person is resolving it, and winnow leaves it alone.
 */
export function parseLsFiles(stdout: string, want?: ReadonlySet<string>): Map<string, IndexEntry | 'conflict'> {
  const out = new Map<string, IndexEntry | 'conflict'>();
  let i = 0;
  while (i < stdout.length) {
    const nul = stdout.indexOf('\0', i);
    const rec = stdout.slice(i, nul < 0 ? stdout.length : nul);
    i = nul < 0 ? stdout.length : nul + 1;
    let flags = 0;
    // --debug: "  ctime: …\n  mtime: …\n … flags: 20004000\n" after the record's NUL. A record
    // never starts with two spaces (it starts with a tag or a mode).
    while (stdout.startsWith('  ', i)) {
      const nl = stdout.indexOf('\n', i);
      const line = stdout.slice(i, nl < 0 ? stdout.length : nl);
      i = nl < 0 ? stdout.length : nl + 1;
      const m = /flags: ([0-9a-f]+)/.exec(line);
      if (m) flags = parseInt(m[1]!, 16);
    }
    const tab = rec.indexOf('\t');
    if (tab < 0) continue;
    let head = rec.slice(0, tab);
    let tag = '';
    if (head.length > 2 && head[1] === ' ' && !/[0-9]/.test(head[0]!)) {
      tag = head[0]!;
      head = head.slice(2);
    }
    const [mode, oid, stage] = head.split(' ');
    const path = rec.slice(tab + 1);
    if (!mode || !oid || (want && !want.has(path))) continue;
    if (stage !== '0' || out.get(path) !== undefined) {
      out.set(path, 'conflict');
      continue;
    }
    const e: IndexEntry = { mode, oid };
    if (flags & CE_INTENT_TO_ADD) e.intentToAdd = true;
    if (tag === 'S' || flags & CE_SKIP_WORKTREE) e.skipWorktree = true;
    if ((tag && tag !== tag.toUpperCase()) || flags & CE_VALID) e.assumeUnchanged = true;
    out.set(path, e);
  }
  return out;
}

/** Rebuilds the private index from `head` (null: empty, for an unborn branch). */
export function readTreeStep(indexFile: PrivateIndexAt, head: string | null): GitStep {
  return { args: [...PRIVATE, 'read-tree', ...(head ? [head] : ['--empty'])], env: privateEnv(indexFile) };
}

/** Stages exactly `paths` from the work tree into the private index: content, link, mode, or removal. */
export function updatePrivateStep(indexFile: PrivateIndexAt, paths: readonly string[]): GitStep {
  return {
    args: [...PRIVATE, 'update-index', '--add', '--remove', '-z', '--stdin'],
    stdin: pathspecStdin(paths),
    env: privateEnv(indexFile),
  };
}

export function writeTreeStep(indexFile: PrivateIndexAt): GitStep {
  return { args: [...PRIVATE, 'write-tree'], env: privateEnv(indexFile) };
}

/** `commit-tree` (no parent on an unborn branch). The message goes as one argv word after `-m`. */
export function commitTreeStep(tree: string, parent: string | null, message: string): GitStep {
  return { args: ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', message] };
}

/**
 * Compare-and-swap of HEAD (through its branch): fails if HEAD is no longer `old`. An all-zero old
 * value means "must not exist yet" (unborn branch).
 */
export function updateRefStep(message: string): GitStep {
  return { args: ['update-ref', '-m', message, '--stdin', '-z'] };
}

/** A ref's compare-and-swap: from `old` (null: must not exist) to `new`. */
export interface RefUpdate {
  ref: string;
  new: string;
  old: string | null;
}

/**
 * `updateRefStep`'s input: started before the new commit exists, it reads the update from stdin.
 * Several updates are one transaction: all move or none.
 */
export function updateRefInput(newSha: string, old: string | null, ref = 'HEAD'): string {
  return `update ${ref}\0${newSha}\0${old ?? nullOid(formatOfOid(newSha))}\0`;
}

/**
 * The person's index after winnow's commit, for the batch's `paths`: a path whose entry still
 * equals the old HEAD entry (or is absent in both) takes the new HEAD entry (or is removed);
 * anything else — staged by hand, in conflict — stays as it is. An intent-to-add entry (`git add -N`)
 * counts as absent, so it takes winnow's commit instead of staying as an empty placeholder that the
 * person's next commit would turn into a deletion.
 *
 * @returns `--index-info -z` input (null when nothing changes), the same as replacements of
 *   entries (`removes`: some entry is removed instead) and the paths left alone
 */
export function realIndexUpdate(
  paths: readonly string[],
  oldHead: ReadonlyMap<string, Entry>,
  newHead: ReadonlyMap<string, Entry>,
  real: ReadonlyMap<string, IndexEntry | 'conflict'>,
): { stdin: string | null; updated: string[]; kept: string[]; replacements: Map<string, Entry>; removes: boolean } {
  const lines: string[] = [];
  const replacements = new Map<string, Entry>();
  let removes = false;
  const updated: string[] = [];
  const kept: string[] = [];
  for (const p of [...new Set(paths)].sort()) {
    const o = oldHead.get(p);
    const n = newHead.get(p);
    const got = real.get(p);
    // An intent-to-add placeholder stands for "not in the index yet": winnow's commit adds the file.
    const r = got !== 'conflict' && got?.intentToAdd ? undefined : got;
    if (same(r, n)) continue; // already what HEAD holds now
    if (!same(r, o)) {
      kept.push(p);
      continue;
    }
    // Mode 0 with an all-zero id removes the entry (git update-index --index-info). `o` is set
    // here: the index held `r`, which equals `o`.
    lines.push(n ? `${n.mode} ${n.oid} 0\t${p}\0` : `0 ${nullOid(formatOfOid(o!.oid))}\t${p}\0`);
    if (n) replacements.set(p, n);
    else removes = true;
    updated.push(p);
  }
  return { stdin: lines.length ? lines.join('') : null, updated, kept, replacements, removes };
}

function same(a: Entry | 'conflict' | undefined, b: Entry | undefined): boolean {
  if (a === 'conflict') return false;
  if (!a || !b) return !a && !b;
  return a.mode === b.mode && a.oid === b.oid;
}

export function indexInfoStep(stdin: string): GitStep {
  return { args: ['update-index', '-z', '--index-info'], stdin };
}

/** Serialised journal; `parseJournal` accepts only what this writes. */
export function formatJournal(j: CommitJournal): string {
  return JSON.stringify(j) + '\n';
}

/** The journal, or null when the text is not one (a torn write never happens: it is written via rename). */
export function parseJournal(text: string): CommitJournal | null {
  try {
    const j = JSON.parse(text) as Partial<CommitJournal>;
    const oid = (x: unknown) => typeof x === 'string' && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(x);
    if (j.version !== 1 || !oid(j.new) || !(j.old === null || oid(j.old))) return null;
    if (!Array.isArray(j.paths) || !j.paths.every((p) => typeof p === 'string')) return null;
    return { version: 1, old: j.old ?? null, new: j.new!, paths: j.paths };
  } catch {
    return null;
  }
}

/**
 * Counts from `ls-files -z -c -d -t` (each tracked file once as `H`/`S`/`M`…, a file missing from
 * the work tree once more as `R`): how many files are tracked, and how many of them are gone.
 */
export function worktreeCountsStep(): GitStep {
  return { args: ['ls-files', '-z', '-c', '-d', '-t'], env: READ_ONLY };
}

export function parseWorktreeCounts(stdout: string): { tracked: number; missing: number } {
  let tracked = 0;
  let missing = 0;
  for (const rec of stdout.split('\0')) {
    if (rec.length < 3) continue;
    if (rec.startsWith('R ')) missing++;
    else tracked++;
  }
  return { tracked, missing };
}

/** The empty tree's id in each object format: an unborn branch whose first commit would hold nothing. */
export { EMPTY_TREES };

/** Where the private index keeps its shared half (`rev-parse --shared-index-path`); empty when not split. */
export function sharedIndexStep(indexFile: PrivateIndexAt | null): GitStep {
  return {
    args: ['rev-parse', '--shared-index-path'],
    env: indexFile ? { ...privateEnv(indexFile), GIT_OPTIONAL_LOCKS: '0' } : { GIT_OPTIONAL_LOCKS: '0' },
  };
}

/** The private index's entries for `paths` (what `update-index` just staged). */
export function privateLsFilesSteps(indexFile: PrivateIndexAt, paths: readonly string[]): GitStep[] {
  return chunkPaths(paths).map((c) => ({ args: [...PRIVATE, 'ls-files', '-s', '-z', '--', ...c], env: privateEnv(indexFile) }));
}

/**
 * Writes `content` as the blob git would store for a file at `path` (its clean filters and eol
 * rules applied), printing the id: the scanned bytes, never the file as it is by now.
 */
export function hashObjectStep(path: string, content: Buffer): GitStep {
  return { args: ['hash-object', '-w', '--stdin', `--path=${path}`], stdin: content, env: LITERAL };
}

/** `--index-info` on the private index. */
export function privateIndexInfoStep(indexFile: PrivateIndexAt, stdin: string): GitStep {
  return { args: [...PRIVATE, 'update-index', '-z', '--index-info'], stdin, env: privateEnv(indexFile) };
}
