/**
 * The git steps the committer adds for history (STYLE.md habit 5: commands as data): the commit's
 * note, its numstat (the message body), its diff (for `commit.messageCommand`), and the git-lfs
 * facts the large-file guard needs. The committer runs them through the Git port.
 */
import type { GitStep } from '../../ports/index.js';
import { pathspecStdin } from './plan.js';
import { emptyTreeOid, formatOfOid } from '../git/object-format.js';

export const NOTES_REF = 'refs/notes/winnow';

/** A name in the state dir where no file is ever written: GIT_INDEX_FILE for git calls that must read no index. */
export const NO_INDEX_FILE = 'no-index';

/** Notes commits are winnow's bookkeeping, made under its own name whatever the person's identity. */
export const NOTES_IDENT: Readonly<Record<string, string>> = {
  GIT_AUTHOR_NAME: 'winnow',
  GIT_AUTHOR_EMAIL: 'winnow@localhost',
  GIT_COMMITTER_NAME: 'winnow',
  GIT_COMMITTER_EMAIL: 'winnow@localhost',
};

/** Attaches `text` as winnow's note on `sha`: one spawn that writes the blob, the notes tree, its commit and ref. */
export function noteStep(sha: string, text: string): GitStep {
  return { args: ['notes', `--ref=${NOTES_REF}`, 'add', '-f', '-F', '-', sha], stdin: text, env: { ...NOTES_IDENT } };
}

/**
 * The environment of a diff between two trees. `noIndex`: a path where no file exists, given as
 * GIT_INDEX_FILE. diff-tree looks `.gitattributes` up (binary files, diff drivers) in the work tree
 * and, for a folder without one, in the index: it read the person's whole index for that, ~8 MB
 * and most of its ~100 ms at 100k files (10 ms without). Attributes files in the work tree, in
 * `info/attributes` and the global one still apply; only one deleted from the work tree and still
 * in the index does not.
 */
function treeDiffEnv(noIndex?: string): Record<string, string> {
  return noIndex ? { GIT_OPTIONAL_LOCKS: '0', GIT_INDEX_FILE: noIndex } : { GIT_OPTIONAL_LOCKS: '0' };
}

/**
 * `numstatStep` reading pairs of trees from stdin (`numstatInput`), so one process answers every
 * commit (adapters/git-session.ts). Each answer starts with its input line, echoed: `numstatOutput` drops it.
 */
export function numstatStdinStep(noIndex?: string): GitStep {
  return { args: ['diff-tree', '--stdin', '-r', '-z', '--numstat', '--no-renames'], env: treeDiffEnv(noIndex) };
}

/** Two tree ids: HEAD's (`oldTree`; the empty tree on an unborn branch) and the new one. */
export function numstatInput(oldTree: string | null, tree: string): string {
  return `${oldTree ?? emptyTreeOid(formatOfOid(tree))} ${tree}\n`;
}

export function numstatOutput(stdout: string): string {
  const nl = stdout.indexOf('\n');
  return nl < 0 ? '' : stdout.slice(nl + 1);
}

/** Added/removed lines per path between `old` (null: unborn) and `tree`. */
export function numstatStep(old: string | null, tree: string, noIndex?: string): GitStep {
  return { args: ['diff-tree', '-r', '-z', '--numstat', '--no-renames', ...(old ? [old, tree] : ['--root', tree])], env: treeDiffEnv(noIndex) };
}

/** The patch a `commit.messageCommand` reads on stdin. */
export function patchStep(old: string | null, tree: string, noIndex?: string): GitStep {
  return { args: ['diff-tree', '-r', '-p', '--no-color', '--no-ext-diff', ...(old ? [old, tree] : ['--root', tree])], env: treeDiffEnv(noIndex) };
}

/**
 * `check-attr filter` for `paths` (stdin, NUL-separated). check-attr takes path names, not
 * pathspecs, and refuses the literal magic: GIT_LITERAL_PATHSPECS is off for it.
 */
export function lfsAttrStep(paths: readonly string[]): GitStep {
  return { args: ['check-attr', '-z', '--stdin', 'filter'], stdin: pathspecStdin(paths), env: { GIT_LITERAL_PATHSPECS: '0', GIT_OPTIONAL_LOCKS: '0' } };
}

/** The clean filter git-lfs installs (`git lfs install`); empty output when it is not set up. */
export function lfsFilterStep(): GitStep {
  return { args: ['config', '--default', '', '--get', 'filter.lfs.clean'], env: { GIT_OPTIONAL_LOCKS: '0' } };
}
