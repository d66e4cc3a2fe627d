/**
 * Commits through a private index (`<state>/index`, kept equal to HEAD): `update-index` of the
 * batch's paths, `write-tree`, `commit-tree`, a compare-and-swap `update-ref`; then the person's
 * index is brought up to date where it still held the old HEAD entry. A journal
 * (`commit-journal.json`) covers the gap between the ref moving and the person's index following.
 * The commands are built as data in core/commit/plumbing.ts.
 */
import { chmod, mkdir, readdir, unlink } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { CommitPlan } from '../../core/commit/plan.js';
import {
  headStep,
  parseHead,
  lsTreeSteps,
  parseLsTree,
  readTreeStep,
  updatePrivateStep,
  writeTreeStep,
  commitTreeStep,
  updateRefStep,
  formatJournal,
  parseJournal,
  EMPTY_TREES,
  sharedIndexStep,
  privateIndexInfoStep,
  type PrivateIndexAt,
  type CommitJournal,
  type Entry,
  changedPaths,
  type RefUpdate,
} from '../../core/commit/plumbing.js';
import { renderMessage } from '../../core/commit/summary.js';
import type { Fs, Git, GitStep, Logger } from '../../ports/index.js';
import { nullOid } from '../../core/git/object-format.js';
import { faultPoint } from '../../util/fault.js';
import { failureInfo } from './failure.js';
import { ignoredByUpdateIndex } from '../../core/commit/names.js';
import type { Scanned } from './scan.js';
import { DirectTree } from './direct-tree.js';
import { prestart } from './prestart.js';
import { moveHead } from './move-head.js';
import { scannedCorrections } from './scanned-bytes.js';
import { updatePersonIndex } from './person-index.js';

/** A commit in git: its journal, the batch's paths it changed, its entries when built directly, whether its note moved with it. */
export type Landed = CommitJournal & { changed?: string[]; entries?: Map<string, Entry>; noted?: boolean };

/** What HEAD was when a batch was prepared, and its entries for the batch's paths. */
export interface HeadFacts {
  head: { commit: string; tree: string } | null;
  entries: Map<string, Entry>;
}

export { HeadMoved } from './move-head.js';
/** The private index cannot be built: this batch goes through `git commit --only` instead. */
export class PrivateIndexError extends Error {}

export class PrivateIndex {
  readonly indexFile: string;
  private readonly journalFile: string;
  /** HEAD the private index equals; undefined when unknown (start, or a step failed half way). */
  private privateHead: string | null | undefined;
  /** The last HEAD whose tree is known (it spares a rev-parse per commit). */
  private known: { commit: string; tree: string } | null = null;
  /** Builds a batch's trees without the private index when it can (direct-tree.ts). */
  private readonly direct: DirectTree;
  /** The commit journal: undefined until read at start; null when there is none. */
  private journal: CommitJournal | null | undefined;
  /** Where git finds the private index and keeps its shared half (see `where`). */
  private at: PrivateIndexAt | null = null;
  /** `<state>/private-git/`: git's directory for the private index only. */
  private readonly privateGitDir: string;

  constructor(private readonly deps: { git: Git; fs: Fs; logger: Logger; stateDir: string }) {
    this.indexFile = join(deps.stateDir, 'index');
    this.privateGitDir = join(deps.stateDir, 'private-git');
    this.journalFile = join(deps.stateDir, 'commit-journal.json');
    this.direct = new DirectTree({ ...deps, where: () => this.where() });
  }

  /** True while a landed commit's journal waits to be settled. */
  journalPending(): boolean {
    return this.journal !== null;
  }

  private async out(steps: GitStep[]): Promise<string> {
    return steps.length ? (await this.deps.git.run(steps)).map((r) => r.stdout).join('') : '';
  }

  /**
   * HEAD's commit read from the ref file (a loose ref written by rename, so never torn), or null to
   * ask git (packed refs, reftable, a linked worktree, an unborn branch). Saves a spawn per commit.
   */
  private async headFromFiles(): Promise<string | null> {
    const { fs, git } = this.deps;
    const text = await fs.readFile(join(git.gitDir, 'HEAD')).then((b) => b.toString('utf8'), () => '');
    const ref = /^ref: (refs\/heads\/[^\n]+)\n?$/.exec(text)?.[1];
    if (!ref || ref.split('/').includes('..')) return null;
    const sha = await fs.readFile(join(git.gitDir, ref)).then((b) => b.toString('utf8').trim(), () => '');
    return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(sha) ? sha : null;
  }

  /** HEAD now, and its entries for `paths`. */
  async readHead(paths: readonly string[]): Promise<HeadFacts> {
    let head: HeadFacts['head'];
    const fromFiles = await this.headFromFiles();
    if (fromFiles !== null && fromFiles === this.known?.commit) {
      head = { ...this.known };
    } else {
      try {
        head = parseHead(await this.out([headStep()]));
        if (head) this.known = { ...head };
      } catch (e) {
        // An unborn branch has no HEAD to parse; anything else is a real failure.
        if ((await this.deps.git.headSha()) !== null) throw e;
        head = null;
      }
    }
    let entries = new Map<string, Entry>();
    if (head) entries = (this.direct.available ? await this.direct.entries(head.tree, paths) : null) ?? (await this.entriesOf(head.commit, paths));
    return { head, entries };
  }

  /**
   * `treeish`'s entries for `paths`: through the git adapter's long-lived cat-file when it has one
   * (a pipe round trip per folder), else one `ls-tree` spawn per argv chunk.
   */
  private async entriesOf(treeish: string, paths: readonly string[]): Promise<Map<string, Entry>> {
    const git = this.deps.git;
    if (git.treeEntries) return git.treeEntries(treeish, paths);
    return parseLsTree(await this.out(lsTreeSteps(treeish, paths)), new Set(paths));
  }

  /**
   * The private index's git directory: `<state>/private-git/`, which git takes for a linked
   * worktree's directory (its `commondir` names the repository), so that the split index's shared
   * half (`sharedindex.*`) is written there and not into the repository's git dir with the umask's
   * mode (issue 11 case 18). Set up once; if it cannot be, the index file alone is used.
   */
  private async where(): Promise<PrivateIndexAt> {
    if (this.at !== null) return this.at;
    const { fs, git, logger } = this.deps;
    const dir = this.privateGitDir;
    try {
      const common = (await this.out([{ args: ['rev-parse', '--path-format=absolute', '--git-common-dir'], env: { GIT_OPTIONAL_LOCKS: '0' } }])).trim();
      if (!common) throw new Error('git rev-parse --git-common-dir printed nothing');
      // Not recursive: the state dir (daemon.lock's) exists unless the workspace moved away, and then
      // nothing may be made at the old place (the first step after `ready` gets here).
      await mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      await fs.writeFileAtomic(join(dir, 'commondir'), `${common}\n`, { createDir: false });
      // Any valid HEAD makes it a git directory; no command run here reads it.
      await fs.writeFileAtomic(join(dir, 'HEAD'), 'ref: refs/heads/winnow-private-index\n', { createDir: false });
      this.at = { file: this.indexFile, gitDir: dir, workTree: git.root };
    } catch (e) {
      logger.log('warn', 'the private index keeps its shared half in the git dir (its own directory could not be set up)', { error: (e as Error).message });
      this.at = this.indexFile;
    }
    return this.at;
  }

  /** git writes `sharedindex.*` with the umask's mode: kept 0600 like every state file. */
  private async privateShared(): Promise<void> {
    if (typeof this.at !== 'object' || this.at === null) return;
    const dir = this.at.gitDir;
    for (const n of await readdir(dir).catch(() => [] as string[])) {
      if (n.startsWith('sharedindex.')) await chmod(join(dir, n), 0o600).catch(() => undefined);
    }
  }

  /**
   * What a first commit would otherwise ask git for on its way (HEAD's commit and tree, the
   * private git dir, what the note's objects need): spawns, ~50 ms of the first commit after a
   * start at 100k files. The private index itself is not built: its read-tree took ~1–1.6 s at
   * 100k files, and since the direct-tree path only a fallback needs it (that fallback builds it).
   * A failure is left to the first commit to meet again.
   */
  async warm(): Promise<void> {
    try {
      await Promise.all([this.readHead([]), this.where(), this.deps.git.prepareObjects?.()]);
    } catch {
      // the commit asks again
    }
  }

  /** Rebuilds the private index from `head`, and drops the shared index half it no longer uses. */
  private async rebuild(head: string | null, tree: string | null): Promise<void> {
    const { fs, git } = this.deps;
    const indexFile = this.indexFile;
    const at = await this.where();
    this.privateHead = undefined;
    const sharedOf = async (index: PrivateIndexAt | null) => {
      const p = (await this.out([sharedIndexStep(index)]).catch(() => '')).trim();
      // Printed relative to git's working directory (the work tree) unless GIT_DIR is absolute.
      return p && !isAbsolute(p) ? join(git.root, p) : p;
    };
    // Where an index written before the private git dir existed keeps its shared half (the git dir).
    const legacy = typeof at === 'object' ? await sharedOf(indexFile) : '';
    const before = await sharedOf(at);
    // Only this daemon (it holds daemon.lock) uses the private index: a lock left there belongs to
    // a git this process started and lost (a timeout's SIGKILL, a crash), never to the person.
    await fs.remove(`${indexFile}.lock`);
    // Rebuilt from HEAD, so nothing in it is needed; and one whose shared half is elsewhere cannot be read.
    await unlink(indexFile).catch(() => undefined);
    try {
      await git.run([readTreeStep(at, head)]);
    } catch (e) {
      throw new PrivateIndexError(failureInfo(e).stderr.trim().split('\n')[0] || String(e));
    }
    this.privateHead = head;
    if (head && tree) this.known = { commit: head, tree };
    await chmod(indexFile, 0o600).catch(() => undefined);
    await this.privateShared();
    const theirs = legacy || before ? await sharedOf(null) : '';
    if (legacy && legacy !== theirs && legacy.startsWith(git.gitDir)) await fs.remove(legacy).catch(() => undefined);
    if (before) {
      const after = await sharedOf(at);
      if (before !== after && before !== theirs) await fs.remove(before).catch(() => undefined);
    }
  }

  /**
   * One commit of `plan` on HEAD (`facts`). Its tree is built from HEAD's trees and the batch's own
   * tiny index where that is safe (direct-tree.ts), else through the private index. Returns the
   * new commit (HEAD now points at it and the journal is written) or null when the tree equals
   * HEAD's (nothing to commit). Once the tree is known, the paths it changed are: the subject names
   * them (`plan.template`), `noteFor` starts the note for them (its ref update for HEAD's
   * transaction; null: written after, through git), and `messageFor` turns the subject into the
   * message (a body, or commit.messageCommand's).
   */
  async commit(
    plan: CommitPlan,
    facts: HeadFacts,
    scanned: ReadonlyMap<string, Scanned> = new Map(),
    hold: (path: string, reason: string) => void = () => undefined,
    messageFor?: (tree: string, subject: string) => Promise<string>,
    noteFor?: (changed: string[]) => ((sha: string) => Promise<RefUpdate | null>) | undefined,
  ): Promise<Landed | null> {
    const { fs, git, logger } = this.deps;
    const old = facts.head?.commit ?? null;
    faultPoint('before-add');
    const direct = await this.direct.build(plan, facts, scanned, hold);
    let tree: string;
    let entries: Map<string, Entry> | undefined;
    if ('tree' in direct) {
      tree = direct.tree;
      // The new commit's entries for the batch (a path git refused keeps HEAD's): the person's index follows them.
      entries = new Map();
      for (const p of plan.paths) {
        const e = direct.entries.has(p) ? direct.entries.get(p) : facts.entries.get(p);
        if (e) entries.set(p, e);
      }
    } else {
      logger.log('info', 'commit through the private index', { reason: direct.fallback });
      tree = await this.privateTree(plan, facts, scanned, hold);
    }
    faultPoint('after-add');
    if (tree === facts.head?.tree || (!facts.head && EMPTY_TREES.has(tree))) {
      if (facts.head) this.known = { ...facts.head };
      return null;
    }
    const changed = changedPaths(plan.paths, facts.entries, entries ?? (await this.entriesOf(tree, plan.paths)));
    const subject = renderMessage(plan.template, changed);
    const noted = noteFor?.(changed);
    const message = messageFor ? await messageFor(tree, subject) : subject;
    // The reflog says "winnow…" (how `squash` knows winnow's commits when notes are off). Started
    // beside commit-tree: the compare-and-swap then costs a pipe write, not a spawn.
    const step = updateRefStep(subject.startsWith('winnow') ? subject : `winnow: ${subject}`);
    const ref = prestart(git, step);
    let sha: string;
    let j: Landed;
    try {
      sha = (await this.out([commitTreeStep(tree, old, message)])).trim();
      j = { version: 1, old, new: sha, paths: plan.paths };
      // The journal (fsynced) and the note's objects side by side, both before HEAD moves (`noted` never rejects).
      const noting = noted ? noted(sha) : null;
      await fs.writeFileAtomic(this.journalFile, formatJournal(j));
      this.journal = j;
      const note = await noting;
      faultPoint('during-commit');
      j.noted = await moveHead(git, ref, step, sha, old, note).catch(async (e: unknown) => {
        await this.dropJournal();
        throw e;
      });
    } finally {
      ref.cancel(); // a no-op once it ran; else its stdin ends empty and it exits
    }
    // Through the private index, it now equals the new commit; built directly, it still equals
    // whatever it equalled (a later fallback rebuilds it from HEAD).
    if (!entries) this.privateHead = sha;
    this.known = { commit: sha, tree };
    faultPoint('after-ref-update');
    return { ...j, changed, ...(entries ? { entries } : {}) };
  }

  /** The batch's tree through the private index: `update-index` of its paths, `write-tree`. */
  private async privateTree(plan: CommitPlan, facts: HeadFacts, scanned: ReadonlyMap<string, Scanned>, hold: (path: string, reason: string) => void): Promise<string> {
    const { git } = this.deps;
    const old = facts.head?.commit ?? null;
    if (this.privateHead !== old) await this.rebuild(old, facts.head?.tree ?? null);
    this.privateHead = undefined;
    const at = await this.where();
    const [added] = await git.run([updatePrivateStep(at, plan.paths)]);
    // A name git refuses is skipped with a warning and exit 0: say so rather than let it vanish.
    const refused = ignoredByUpdateIndex(added?.stderr ?? '', plan.paths);
    for (const p of refused) hold(p, 'git refused the name ("Ignoring path" from update-index): never committed; rename it');
    let tree = (await this.out([writeTreeStep(at)])).trim();
    if (await this.keepScannedBytes(plan, tree, facts, scanned, hold, new Set(refused))) tree = (await this.out([writeTreeStep(at)])).trim();
    // git rewrites the index (update-index, then write-tree's cache-tree) with the umask's mode;
    // it lists the workspace's files, so it is kept 0600 like every state file.
    await chmod(this.indexFile, 0o600).catch(() => undefined);
    await this.privateShared();
    // Equal to HEAD again when nothing changed; else to the commit about to be made (set after it lands).
    if (tree === facts.head?.tree || (!facts.head && EMPTY_TREES.has(tree))) this.privateHead = old;
    return tree;
  }

  /**
   * Where git staged other bytes than the scanned ones in the private index, the scanned bytes
   * (scanned-bytes.ts). What git staged is read from the tree `write-tree` just wrote, through the
   * long-lived cat-file: an `ls-files` of the private index read all of it again (~8 MB at 100k
   * files) for a batch's few entries. Returns true when the private index was corrected (the tree
   * must be written again).
   */
  private async keepScannedBytes(
    plan: CommitPlan,
    tree: string,
    facts: HeadFacts,
    scanned: ReadonlyMap<string, Scanned>,
    hold: (path: string, reason: string) => void,
    refused: ReadonlySet<string> = new Set(),
  ): Promise<boolean> {
    const paths = plan.paths.filter((p) => scanned.has(p) && !refused.has(p));
    if (!paths.length) return false;
    const staged = await this.entriesOf(tree, paths);
    const fixes = await scannedCorrections(this.deps.git, paths, staged, facts.entries, scanned, hold);
    if (!fixes.size) return false;
    const none = [...fixes.values()].includes(null) ? nullOid(await this.deps.git.objectFormat()) : '';
    const lines = [...fixes].map(([p, e]) => (e ? `${e.mode} ${e.oid} 0\t${p}\0` : `0 ${none}\t${p}\0`));
    await this.deps.git.run([privateIndexInfoStep(await this.where(), lines.join(''))]);
    return true;
  }

  private async dropJournal(): Promise<void> {
    await this.deps.fs.remove(this.journalFile);
    this.journal = null;
  }

  /**
   * Brings the person's index up to date with `j` for its paths, where it still holds the old HEAD
   * entry, so `git status` shows no staged reversal of winnow's commit. What they staged by hand stays.
   */
  async syncRealIndex(j: Landed, oldEntries?: Map<string, Entry>): Promise<void> {
    const [oldE, newE] = await Promise.all([
      oldEntries ?? (j.old ? this.entriesOf(j.old, j.paths) : new Map<string, Entry>()),
      j.entries ?? this.entriesOf(j.new, j.paths),
    ]);
    const kept = await updatePersonIndex(this.deps.git, j.paths, oldE, newE);
    if (kept.length) this.deps.logger.log('info', 'index entries staged by hand left as they are', { paths: kept });
    await this.dropJournal();
  }

  /**
   * Settles a journal left by the last commit (at start: by a crash). HEAD at `new`: finish the
   * person's index. HEAD at `old`: the ref never moved; the paths are still pending upstream.
   * Returns false when the index update must be tried again later (someone holds index.lock).
   */
  async settleJournal(): Promise<boolean> {
    const { fs, git, logger } = this.deps;
    if (this.journal === undefined) {
      const text = await fs.readFile(this.journalFile).then((b) => b.toString('utf8'), () => null);
      this.journal = text === null ? null : parseJournal(text);
      if (text !== null && this.journal === null) {
        logger.log('warn', 'commit journal unreadable; dropped', { file: this.journalFile });
        await fs.remove(this.journalFile);
      }
    }
    const j = this.journal;
    if (!j) return true;
    try {
      const head = await git.headSha();
      if (head === j.new) {
        await this.syncRealIndex(j);
        logger.log('info', 'commit journal: index brought up to date', { sha: j.new, paths: j.paths.length });
      } else {
        logger.log(head === j.old ? 'info' : 'warn', 'commit journal dropped', {
          sha: j.new,
          reason: head === j.old ? 'HEAD never moved to the new commit' : 'HEAD moved elsewhere since',
        });
        await this.dropJournal();
      }
      return true;
    } catch (e) {
      const info = failureInfo(e);
      logger.log('warn', 'commit journal: index update failed; will retry', { error: info.stderr.trim().split('\n')[0] ?? '' });
      return false;
    }
  }
}
