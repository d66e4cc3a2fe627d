/**
 * What the committer adds to a commit for history, on the Git port: the large-file guard (with
 * git-lfs), the message (body with line counts, or `commit.messageCommand`), and the note with
 * each path's evidence. Each costs a spawn at most, and only when it has something to do.
 */
import { join } from 'node:path';
import type { Git, Logger, MessageCommand } from '../../ports/index.js';
import type { Config } from '../../core/config/defaults.js';
import { largeFileHold, parseLfsAttrs, type LfsState } from '../../core/commit/large.js';
import { formatBody, messageFromCommand, parseNumstat, withBody } from '../../core/commit/body.js';
import { lfsAttrStep, lfsFilterStep, noteStep, numstatStep, patchStep, NO_INDEX_FILE, NOTES_IDENT, NOTES_REF } from '../../core/commit/history-steps.js';
import { entryFor, formatNote } from '../../core/history/note.js';
import { addNote, notesCommitBody, stripspace } from '../../core/history/notes-tree.js';
import type { RefUpdate } from '../../core/commit/plumbing.js';
import { objectOid } from '../commit/direct-tree.js';
import { formatOfOid } from '../../core/git/object-format.js';

const NOTES_AUTHOR = `${NOTES_IDENT.GIT_AUTHOR_NAME} <${NOTES_IDENT.GIT_AUTHOR_EMAIL}>`;
import type { Decision } from '../../core/decision.js';

/** The diff a message command reads is capped: an LLM prompt, not an archive. */
const PATCH_MAX_BYTES = 256 * 1024;

/**
 * Of `sized` (path → size in bytes, present regular files), the paths to hold back, with the
 * reason. git-lfs is asked only about files over the limit.
 */
export async function largeFileHolds(git: Git, config: Config, sized: ReadonlyMap<string, number>): Promise<Map<string, string>> {
  const max = config.commit.maxFileBytes;
  const big = [...sized].filter(([, size]) => size > max).map(([p]) => p);
  const out = new Map<string, string>();
  if (!big.length) return out;
  const [attrs, filter] = await Promise.all([
    git.run([lfsAttrStep(big)]).then((r) => parseLfsAttrs(r[0]!.stdout), () => new Set<string>()),
    git.run([lfsFilterStep()]).then((r) => r[0]!.stdout.trim() !== '', () => false),
  ]);
  for (const p of big) {
    const lfs: LfsState = attrs.has(p) ? (filter ? 'ready' : 'not-installed') : 'none';
    const why = largeFileHold(sized.get(p)!, max, lfs);
    if (why) out.set(p, why);
  }
  return out;
}

/**
 * The message for a commit of `tree` on `old` (whose tree is `oldTree`): `subject` with a body
 * listing each path's line counts, or what `commit.messageCommand` prints for the diff. A failing
 * or slow command falls back to the template, logged.
 */
export async function commitMessage(
  git: Git,
  deps: { config: Config; logger: Logger; root: string; stateDir?: string; messageCommand?: MessageCommand },
  old: { commit: string; tree: string } | null,
  tree: string,
  subject: string,
): Promise<string> {
  const cmd = deps.config.commit.messageCommand;
  // Never created: the diffs below read no index (core/commit/history-steps.ts says why).
  const noIndex = deps.stateDir ? join(deps.stateDir, NO_INDEX_FILE) : undefined;
  if (cmd && deps.messageCommand) {
    const patch = await git.run([patchStep(old?.commit ?? null, tree, noIndex)]).then((r) => r[0]!.stdout, () => '');
    const input = patch.length > PATCH_MAX_BYTES ? patch.slice(0, PATCH_MAX_BYTES) + '\n[diff cut at 256 KiB]\n' : patch;
    const r = await deps.messageCommand(cmd, input, { cwd: deps.root, timeoutMs: deps.config.commit.messageTimeoutMs });
    const msg = r.ok ? messageFromCommand(r.stdout) : null;
    if (msg) return msg;
    deps.logger.log('warn', 'commit.messageCommand failed; the message template is used', {
      command: cmd,
      error: r.ok ? 'it printed no message' : r.error,
    });
  }
  // Through the adapter's long-lived diff-tree where it keeps one.
  const out = git.numstat
    ? git.numstat(old?.tree ?? null, tree)
    : git.run([numstatStep(old?.commit ?? null, tree, noIndex)]).then((r) => r[0]!.stdout);
  return withBody(subject, formatBody(await out.then(parseNumstat, () => [])));
}

/**
 * The commit's note (each path with its last accepting decision) written from node as git would
 * (core/history/notes-tree.ts), as the update of refs/notes/winnow for HEAD's own transaction.
 * Started before the commit exists (the text and the notes tip do not depend on its id); the
 * function returned finishes it for the commit. It gives null where `git notes add` must write the
 * note after: no object writer (shared permissions, fsync), a notes tree git must lay out again,
 * or anything that failed on the way. (A batch that needs no commit leaves the blob dangling.)
 */
export function startCommitNote(
  git: Git,
  paths: readonly string[],
  decisionFor: (path: string) => (Decision & { at?: number }) | undefined,
  now: number,
): ((sha: string) => Promise<RefUpdate | null>) | undefined {
  const { readObject, readTree, writeObject } = git;
  if (!readObject || !readTree || !writeObject) return undefined;
  const text = stripspace(formatNote({ kind: 'commit', at: now }, paths.map((p) => entryFor(p, decisionFor(p)))));
  const started = Promise.all([writeObject('blob', Buffer.from(text, 'utf8')), readObject(NOTES_REF)]);
  started.catch(() => undefined);
  return async (sha) => {
    try {
      const [blob, tip] = await started;
      const oldTree = tip?.type === 'commit' ? /^tree ([0-9a-f]+)\n/.exec(tip.body.toString('latin1'))?.[1] : null;
      if (tip && !oldTree) return null;
      const format = formatOfOid(sha);
      const io = { oidBytes: sha.length / 2, read: readTree, treeId: (body: Buffer) => objectOid(format, 'tree', body) };
      const placed = await addNote(oldTree ?? null, sha, blob, io);
      if (!placed) return null;
      const body = notesCommitBody(placed.tree, tip?.id ?? null, NOTES_AUTHOR, now, new Date(now).getTimezoneOffset());
      const commit = objectOid(format, 'commit', body);
      // Ids known first, so the trees and the commit are written side by side (each file costs a few calls).
      const written = await Promise.all([...placed.writes.map((b) => writeObject('tree', b)), writeObject('commit', body)]);
      const expected = [...placed.writes.map((b) => io.treeId(b)), commit];
      if (written.some((id, i) => id !== expected[i])) return null;
      return { ref: NOTES_REF, new: commit, old: tip?.id ?? null };
    } catch {
      return null;
    }
  };
}

/** Writes the commit's note: each path with its last accepting decision. A failure is logged, never fatal. */
export async function writeCommitNote(
  git: Git,
  logger: Logger,
  sha: string,
  paths: readonly string[],
  decisionFor: (path: string) => (Decision & { at?: number }) | undefined,
  now: number,
): Promise<void> {
  const text = formatNote({ kind: 'commit', at: now }, paths.map((p) => entryFor(p, decisionFor(p))));
  try {
    await git.run([noteStep(sha, text)]);
  } catch (e) {
    logger.log('warn', 'commit note not written', { sha, error: (e as Error).message.split('\n')[0] });
  }
}
