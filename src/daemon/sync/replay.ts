/**
 * Local commits replayed onto the remote tip without a work tree: `git merge-tree --write-tree`
 * (git ≥ 2.38) and `commit-tree`, object plumbing that never touches the work tree, the index or
 * the stash. Under `ours`/`theirs`, conflicted paths are settled in a private index and the losing
 * version is kept as a conflict copy (core/sync/conflict.ts plans it).
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { planResolution, type ConflictedPath } from '../../core/sync/index.js';
import { copyNotes } from '../history/sync-extras.js';
import type { GitRunner } from '../../ports/index.js';
import { gitText, objectFormat } from '../git-calls.js';
import { emptyTreeOid, nullOid } from '../../core/git/object-format.js';
import type { SyncerDeps } from './syncer.js';

export type ReplayResult = { kind: 'ok'; tip: string; copies: string[] } | { kind: 'conflict'; files: string[] };

interface MergeTreeOut {
  tree: string;
  conflicts: Map<string, { stage: number; mode: string; oid: string }[]>;
}

const SYNTHETIC_IDENT = {
  GIT_AUTHOR_NAME: 'winnow',
  GIT_AUTHOR_EMAIL: 'winnow@localhost',
  GIT_COMMITTER_NAME: 'winnow',
  GIT_COMMITTER_EMAIL: 'winnow@localhost',
  GIT_AUTHOR_DATE: '@1 +0000',
  GIT_COMMITTER_DATE: '@1 +0000',
};

/**
 * A cherry-pick as a three-way merge of trees: `base` → `theirs` applied onto `ours`. git 2.38
 * and 2.39 have `merge-tree --write-tree` but not `--merge-base`, so the merge base is forced
 * with throw-away commits: B (base's tree, no parent), O (ours' tree, parent B) and T (theirs'
 * tree, parent B); merge-base(O, T) is B. They stay unreferenced objects for gc.
 */
async function mergeTree(git: GitRunner, baseTree: string, oursTree: string, theirsTree: string): Promise<MergeTreeOut> {
  const mk = (tree: string, parent?: string) =>
    gitText(git, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', 'winnow sync replay'], { env: SYNTHETIC_IDENT });
  const b = await mk(baseTree);
  const o = await mk(oursTree, b);
  const t = await mk(theirsTree, b);
  // Exit 1: the merge has conflicts (listed after the tree); anything else is a failure.
  const r = await git(['merge-tree', '--write-tree', '-z', o, t], { okCodes: [1] });
  const parts = r.stdout.toString('utf8').split('\0');
  const tree = parts[0]!;
  const conflicts = new Map<string, { stage: number; mode: string; oid: string }[]>();
  if (r.code === 1) {
    for (let i = 1; i < parts.length && parts[i] !== ''; i++) {
      const m = /^(\d+) ([0-9a-f]+) (\d)\t(.*)$/s.exec(parts[i]!);
      if (!m) continue;
      const list = conflicts.get(m[4]!) ?? [];
      list.push({ mode: m[1]!, oid: m[2]!, stage: Number(m[3]) });
      conflicts.set(m[4]!, list);
    }
    if (conflicts.size === 0) conflicts.set('(unknown path)', []);
  }
  return { tree, conflicts };
}

/**
 * Replays the local commits (those in remoteTip..local not already upstream, oldest first) onto
 * remoteTip without a work tree. Under `ours`/`theirs`, conflicted paths are settled in a
 * private index and the losing version is committed next to them as a conflict copy.
 */
export async function replay(deps: SyncerDeps, git: GitRunner, local: string, remoteTip: string): Promise<ReplayResult> {
  const strategy = deps.config.remote!.conflict;
  const commits = (await gitText(git, ['rev-list', '--reverse', '--topo-order', '--no-merges', '--right-only', '--cherry-pick', `${remoteTip}...${local}`]))
    .split('\n')
    .filter(Boolean);
  let tip = remoteTip;
  const copies: string[] = [];
  const ident = await git(['var', 'GIT_COMMITTER_IDENT'], { allowFail: true });
  /** Replayed commit → its replacement: winnow's notes follow them. */
  const replaced: [string, string][] = [];
  for (const c of commits) {
    // A root commit has no parent: its changes are made from the empty tree.
    const parentTree = await gitText(git, ['rev-parse', `${c}^^{tree}`]).catch(async () => emptyTreeOid(await objectFormat(git)));
    const mt = await mergeTree(git, parentTree, await gitText(git, ['rev-parse', `${tip}^{tree}`]), await gitText(git, ['rev-parse', `${c}^{tree}`]));
    let tree = mt.tree;
    let note = '';
    if (mt.conflicts.size) {
      if (strategy === 'manual') {
        // Report every conflicted path of the whole replay would need more merges; the first
        // commit's list is what the person meets first when they pull.
        return { kind: 'conflict', files: [...mt.conflicts.keys()].sort() };
      }
      const settled = await settleConflicts(deps, git, strategy, mt, tip, c);
      tree = settled.tree;
      copies.push(...settled.copies);
      note = `\n\nwinnow: conflicts resolved with "${strategy}"; the other side is kept in ${settled.copies.join(', ') || 'no copy (it deleted the file)'}.\n`;
    }
    if (tree === (await gitText(git, ['rev-parse', `${tip}^{tree}`]))) continue; // already upstream in substance: dropped, as rebase does
    const meta = (await gitText(git, ['log', '-1', '--format=%an%x00%ae%x00%ad', '--date=raw', c])).split('\0');
    const raw = (await git(['cat-file', 'commit', c])).stdout.toString('utf8');
    const message = raw.slice(raw.indexOf('\n\n') + 2).replace(/\n*$/, '\n') + note;
    const env: Record<string, string> = { GIT_AUTHOR_NAME: meta[0]!, GIT_AUTHOR_EMAIL: meta[1]!, GIT_AUTHOR_DATE: meta[2]! };
    if (ident.code !== 0) Object.assign(env, { GIT_COMMITTER_NAME: meta[0]!, GIT_COMMITTER_EMAIL: meta[1]! });
    tip = await gitText(git, ['commit-tree', tree, '-p', tip, '-F', '-'], { env, input: message });
    replaced.push([c, tip]);
  }
  await copyNotes(git, replaced);
  return { kind: 'ok', tip, copies };
}

async function settleConflicts(deps: SyncerDeps, git: GitRunner, strategy: 'ours' | 'theirs', mt: MergeTreeOut, tip: string, commit: string): Promise<{ tree: string; copies: string[] }> {
  // Stage 2 is the side being replayed onto (remote), stage 3 the local commit.
  const files: ConflictedPath[] = [];
  for (const [path, stages] of mt.conflicts) {
    files.push({ path, local: stages.some((s) => s.stage === 3), remote: stages.some((s) => s.stage === 2) });
  }
  const existing = new Set(
    (await git(['ls-tree', '-r', '-z', '--name-only', tip])).stdout.toString('utf8').split('\0').filter(Boolean),
  );
  for (const p of (await git(['ls-tree', '-r', '-z', '--name-only', commit])).stdout.toString('utf8').split('\0')) if (p) existing.add(p);
  const plan = planResolution(strategy, files, deps.hostname, deps.clock.now(), existing);
  const tmpIndex = join(deps.stateDir, `sync-index.${process.pid}`);
  const env = { GIT_INDEX_FILE: tmpIndex };
  const none = nullOid(await objectFormat(git));
  try {
    await git(['read-tree', mt.tree], { env });
    const lines: string[] = [];
    const entry = (path: string, side: 'local' | 'remote') => mt.conflicts.get(path)!.find((s) => s.stage === (side === 'remote' ? 2 : 3))!;
    for (const r of plan) {
      // Drop whatever merge-tree left at the path (stages or a file with conflict markers).
      lines.push(`0 ${none}\t${r.path}`);
      if (r.keep !== 'none') {
        const e = entry(r.path, r.keep);
        lines.push(`${e.mode} ${e.oid}\t${r.path}`);
      }
      if (r.copy) {
        const e = entry(r.path, r.copy.from);
        lines.push(`${e.mode} ${e.oid}\t${r.copy.path}`);
      }
    }
    await git(['update-index', '-z', '--index-info'], { env, input: lines.join('\0') + '\0' });
    const tree = await gitText(git, ['write-tree'], { env });
    return { tree, copies: plan.filter((r) => r.copy).map((r) => r.copy!.path) };
  } finally {
    await unlink(tmpIndex).catch(() => undefined);
  }
}
