/**
 * Turns a batch of settled paths into the git commands that commit exactly those paths
 * (STYLE.md habit 5: commands are data; the adapter runs them, unit tests assert on them).
 *
 * The commit is `git commit --only` with the pathspecs on stdin: git builds a temporary index from
 * HEAD plus the listed paths, so whatever the person staged by hand stays staged and out of the
 * commit, deletions count, and an unborn branch works. New files need `git add -N` first
 * (intent-to-add): `commit --only` refuses pathspecs that match nothing in the index.
 */
import type { GitStep } from '../../ports/index.js';
import { renderMessage } from './summary.js';

/** What the committer learned about each path just before planning. */
export interface PathFacts {
  /** In the index now. */
  tracked: boolean;
  /** Present on disk (file or symlink; the link itself, never its target). */
  present: boolean;
}

export interface CommitPlanInput {
  paths: readonly string[];
  facts: ReadonlyMap<string, PathFacts>;
  /** `commit.message`, with `{summary}` and `{count}`. */
  messageTemplate: string;
  /** `commit.hooks`: when false, hooks are pointed at an empty directory and `--no-verify` is given. */
  hooks: boolean;
  /** `<stateDir>/hooks-empty`. */
  hooksDir: string;
}

export interface CommitPlan {
  /** The paths the commit holds, sorted, without duplicates. */
  paths: string[];
  /** Neither on disk nor tracked (an editor's temp file that came and went): nothing to commit. */
  dropped: string[];
  /** Untracked paths on disk, added with intent-to-add before the commit. */
  intentToAdd: string[];
  /** Tracked paths that are gone from disk: the commit records their deletion. */
  deletions: string[];
  /** `template` rendered for `paths`: the message of a `git commit --only`. */
  message: string;
  /** `commit.message` as configured: a plumbing commit's subject names only the paths that changed. */
  template: string;
  /** `add -N` (when needed), then `commit`. Empty when there is nothing to commit. */
  steps: GitStep[];
}

/** NUL-terminated pathspecs for `--pathspec-from-file=- --pathspec-file-nul`. */
export function pathspecStdin(paths: readonly string[]): string {
  return paths.map((p) => p + '\0').join('');
}

const LITERAL = { GIT_LITERAL_PATHSPECS: '1' };

/**
 * @example
 *   planCommit({ paths: ['new.md'], facts: new Map([['new.md', { tracked: false, present: true }]]),
 *     messageTemplate: 'winnow: {summary}', hooks: false, hooksDir: '/r/.git/winnow/hooks-empty' }).steps
 *   // [{ args: ['add', '--intent-to-add', '--pathspec-from-file=-', '--pathspec-file-nul'], stdin: 'new.md\0', … },
 *   //  { args: ['-c', 'core.hooksPath=/r/.git/winnow/hooks-empty', 'commit', '--only', '--no-verify', …], … }]
 */
export function planCommit(input: CommitPlanInput): CommitPlan {
  const paths: string[] = [];
  const dropped: string[] = [];
  const intentToAdd: string[] = [];
  const deletions: string[] = [];
  for (const p of [...new Set(input.paths)].sort()) {
    const f = input.facts.get(p) ?? { tracked: false, present: false };
    if (!f.present && !f.tracked) {
      dropped.push(p);
      continue;
    }
    paths.push(p);
    if (!f.tracked) intentToAdd.push(p);
    if (!f.present) deletions.push(p);
  }
  const message = renderMessage(input.messageTemplate, paths);
  const steps: GitStep[] = [];
  if (paths.length) {
    if (intentToAdd.length) {
      steps.push({
        args: ['add', '--intent-to-add', '--pathspec-from-file=-', '--pathspec-file-nul'],
        stdin: pathspecStdin(intentToAdd),
        env: LITERAL,
      });
    }
    const pre = input.hooks ? [] : ['-c', `core.hooksPath=${input.hooksDir}`];
    steps.push({
      args: [
        ...pre,
        'commit',
        '--only',
        ...(input.hooks ? [] : ['--no-verify']),
        // Unsigned, as plumbing's commits are: a signing prompt (commit.gpgSign) has nobody to ask.
        '--no-gpg-sign',
        '-q',
        // A subject such as "#notes.md" must not be taken for a comment and stripped away.
        '--cleanup=whitespace',
        '-m',
        message,
        '--pathspec-from-file=-',
        '--pathspec-file-nul',
      ],
      stdin: pathspecStdin(paths),
      env: LITERAL,
    });
  }
  return { paths, dropped, intentToAdd, deletions, message, template: input.messageTemplate, steps };
}
