/**
 * `winnow squash` (and `remote.squashBeforePush`): winnow's unpushed commits at the tip of the
 * branch folded into one. The folded commit has HEAD's tree, so the work tree and the person's
 * index are untouched; only the branch moves (compare-and-swap: a commit made meanwhile makes it
 * refuse, never lose). Their notes are folded into one note on the new commit.
 */
import type { Config } from '../../core/config/defaults.js';
import { planSquash, type SquashSince, type TipCommit } from '../../core/history/squash.js';
import { foldNotes, type Note, type NoteKind } from '../../core/history/note.js';
import { renderMessage } from '../../core/commit/summary.js';
import { formatBody, parseNumstat, withBody } from '../../core/commit/body.js';
import { parseWhen, WHEN_FORMS } from '../../core/history/when.js';
import { currentBranch, gitText, readNote, revParse, tipFacts, writeNote, type GitRunner } from './git.js';

export class SquashRefusal extends Error {
  override name = 'SquashRefusal';
}

export interface SquashRequest {
  /** `--since`: a revision, or a WHEN; null folds the whole run of winnow's commits at the tip. */
  since: string | null;
  /** The person's message; null: the combined summary (the folded commit then stays winnow's). */
  message: string | null;
  dryRun?: boolean;
}

export interface SquashResult {
  folded: TipCommit[];
  base: string | null;
  sha: string | null;
  message: string;
  paths: string[];
}

export async function resolveSince(git: GitRunner, since: string | null, now: number): Promise<SquashSince> {
  if (since === null) return null;
  const sha = await revParse(git, since);
  if (sha) return { kind: 'rev', sha, text: since };
  const at = parseWhen(since, now);
  if (at !== null) return { kind: 'time', at, text: since };
  throw new SquashRefusal(`--since "${since}" is neither a commit nor a time; use a revision (HEAD~3, a sha) or a time like ${WHEN_FORMS}.`);
}

/**
 * Plans and (unless `dryRun`) makes the squash on the checked-out branch.
 * @example await squash(git, config, { since: '1h', message: 'Draft chapter 3' }, Date.now())
 */
export async function squash(git: GitRunner, config: Config, req: SquashRequest, now: number): Promise<SquashResult> {
  const branchRef = await currentBranch(git);
  if (!branchRef) throw new SquashRefusal('HEAD is detached: squash works on a branch. Check one out first.');
  const since = await resolveSince(git, req.since, now);
  const { tip, complete } = await tipFacts(git, branchRef);
  const plan = planSquash(tip, since, complete);
  if (!plan.ok) throw new SquashRefusal(plan.reason);
  const head = plan.fold[plan.fold.length - 1]!.sha;
  const range = plan.base ? [plan.base, head] : ['--root', head];
  const stats = parseNumstat((await git(['diff-tree', '-r', '--numstat', '-z', '--no-renames', ...range])).stdout.toString('utf8'));
  const paths = stats.map((s) => s.path);
  const message = req.message ?? withBody(renderMessage(config.commit.message, paths), formatBody(stats));
  if (req.dryRun) return { folded: plan.fold, base: plan.base, sha: null, message, paths };
  const sha = await foldInto(git, config, branchRef, plan.fold, plan.base, message, req.message === null ? 'squash-auto' : 'squash', now);
  return { folded: plan.fold, base: plan.base, sha, message, paths };
}

async function foldInto(git: GitRunner, config: Config, branchRef: string, fold: TipCommit[], base: string | null, message: string, kind: NoteKind, now: number): Promise<string> {
  const head = fold[fold.length - 1]!.sha;
  const tree = await gitText(git, ['rev-parse', `${head}^{tree}`]);
  // The person's identity and the time of the last folded commit as the author date: the content is as of then.
  const authorDate = String(Math.floor(fold[fold.length - 1]!.at / 1000));
  const sha = await gitText(git, ['commit-tree', tree, ...(base ? ['-p', base] : []), '-F', '-'], {
    input: message.endsWith('\n') ? message : `${message}\n`,
    env: { GIT_AUTHOR_DATE: `@${authorDate}` },
  });
  const u = await git(['update-ref', '-m', `winnow squash: ${fold.length} commit${fold.length === 1 ? '' : 's'}`, branchRef, sha, head], { allowFail: true });
  if (u.code !== 0) throw new SquashRefusal(`the branch moved during the squash (a commit was made meanwhile); nothing was changed. Run it again.`);
  if (config.commit.notes) {
    const notes: (Note | null)[] = [];
    for (const c of fold) notes.push(await readNote(git, c.sha));
    const folded = foldNotes(notes, { kind, at: now, folded: fold.map((c) => c.sha) });
    await writeNote(git, sha, folded.header, folded.entries).catch(() => undefined);
  }
  return sha;
}
