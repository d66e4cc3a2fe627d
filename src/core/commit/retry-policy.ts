/**
 * What a failed git call means for the committer (STYLE.md habit 6): its failure table, and the
 * paths git refused by name. Backoff and the breaker are shared with the syncer (core/retry.ts).
 */
import { matchFailure, type FailureRule } from '../retry.js';

/** What the caller can do about a failure. */
export type RetryAction =
  /** Transient (a lock, a full disk, a timeout, a remote that is down): try again after a backoff. */
  | 'retry'
  /** Retrying the same command will not help; the breaker opens and a person has to look. */
  | 'abort'
  /** Not a failure: there was nothing to commit. */
  | 'noop'
  /** The inputs changed under us (a path vanished): plan again from fresh facts. */
  | 'replan';

export type FailureKind =
  | 'index-lock'
  | 'disk-full'
  | 'timeout'
  | 'remote-down'
  | 'nothing-to-commit'
  | 'pathspec-vanished'
  | 'fatal';

export interface FailureInfo {
  code: number | null;
  stderr: string;
  timedOut: boolean;
  /** `git commit` reports "nothing to commit" on stdout. */
  stdout?: string;
}

export interface Classified {
  kind: FailureKind;
  action: RetryAction;
  /** One line for `status` and the log. */
  reason: string;
}

/** The committer's failure table: the first matching row wins. */
export const COMMIT_FAILURES: readonly FailureRule<Classified>[] = [
  // First: "Unable to create '…/index.lock': No space left on device" is the disk, not a lock.
  {
    // git words a full disk many ways: the errno text (after "unable to write …", "write error",
    // "unable to create temporary file"), "Out of diskspace" (pack writes) and "short write".
    re: /No space left on device|ENOSPC|Out of disk ?space|Disk quota exceeded|EDQUOT|short write|unable to write (new index file|loose object|sha1 file)/i,
    value: { kind: 'disk-full', action: 'retry', reason: 'the disk is full' },
  },
  {
    re: /index\.lock': File exists|Unable to create '.*\.lock'|another git process seems to be running|cannot lock ref|Unable to create .*\.lock/i,
    value: { kind: 'index-lock', action: 'retry', reason: 'another git process holds a lock in the repository' },
  },
  {
    re: /Could not resolve host|Connection (refused|timed out|reset)|Could not read from remote repository|unable to access '.*':|The remote end hung up|Network is unreachable|early EOF|remote: Internal Server Error|HTTP 5\d\d/i,
    value: { kind: 'remote-down', action: 'retry', reason: 'the remote cannot be reached' },
  },
  {
    re: /nothing to commit|no changes added to commit|nothing added to commit/i,
    value: { kind: 'nothing-to-commit', action: 'noop', reason: 'nothing to commit' },
  },
  {
    re: /pathspec '.*' did not match any file|did not match any file\(s\) known to git|unable to (stat|index file)|No such file or directory|could not open '.*' for reading/i,
    value: { kind: 'pathspec-vanished', action: 'replan', reason: 'a path changed or vanished while it was being committed' },
  },
];

/**
 * @example classifyCommitFailure({ code: 128, stderr: "fatal: Unable to create '/r/.git/index.lock': File exists.", timedOut: false })
 *   // { kind: 'index-lock', action: 'retry', reason: 'another git process holds a lock in the repository' }
 */
export function classifyCommitFailure(f: FailureInfo): Classified {
  if (f.timedOut) return { kind: 'timeout', action: 'retry', reason: 'git did not answer in time' };
  const text = f.stdout ? `${f.stderr}\n${f.stdout}` : f.stderr;
  const hit = matchFailure(text, COMMIT_FAILURES);
  if (hit) return { ...hit };
  // Silent failure: a commit hook that refused without a word looks exactly like this, and it is
  // not "nothing to commit" — treating it so would drop the batch.
  if (f.stderr.trim() === '' && !f.stdout?.trim()) {
    return { kind: 'fatal', action: 'abort', reason: `git exited ${f.code} without a message (a commit hook that refused?)` };
  }
  const first = f.stderr.trim().split('\n').find((l) => l.trim()) ?? `exit ${f.code}`;
  return { kind: 'fatal', action: 'abort', reason: first.replace(/^(fatal|error): /, '') };
}

/** A path git refused by name: it can never be committed as planned, so it is held, not retried. */
export interface OffendingPath {
  path: string;
  reason: string;
}

/**
 * Paths that git names as the cause of a failure, so one bad path cannot block every commit (a
 * fatal error opens the breaker, and the same batch would fail again after each cooldown):
 * ignored paths refused by `git add`, and paths behind a symbolic link.
 *
 * @example offendingPaths("fatal: pathspec 'lnk/f' is beyond a symbolic link")
 *   // [{ path: 'lnk/f', reason: 'behind a symbolic link: git cannot track it' }]
 */
export function offendingPaths(stderr: string): OffendingPath[] {
  const out: OffendingPath[] = [];
  // `add`/`commit` say "pathspec 'x' is beyond …"; `update-index` says "'x' is beyond …".
  for (const m of stderr.matchAll(/^(?:fatal: pathspec |error: |fatal: )?'(.*)' is beyond a symbolic link$/gm)) {
    out.push({ path: m[1]!, reason: 'behind a symbolic link: git cannot track it' });
  }
  // `add` and `update-index --add` (without --stdin) on a name git refuses (`.GIT/x`, `git~1`).
  for (const m of stderr.matchAll(/^error: invalid path '(.*)'$/gm)) {
    out.push({ path: m[1]!, reason: 'git refuses this path name (invalid path): never committed; rename it' });
  }
  const ig = /The following paths are ignored by one of your \.gitignore files:\n([\s\S]*?)(?:\nhint:|\n(?:fatal|error):|$)/.exec(stderr);
  if (ig) {
    for (const line of ig[1]!.split('\n')) {
      if (line.trim()) out.push({ path: unquoteC(line), reason: 'ignored by git (.gitignore changed after it was accepted)' });
    }
  }
  return out;
}

/** Undoes git's C-style quoting of unusual names (`core.quotePath`): `"\303\274.md"` → `ü.md`. */
export function unquoteC(s: string): string {
  if (!(s.length >= 2 && s.startsWith('"') && s.endsWith('"'))) return s;
  const bytes: number[] = [];
  const body = s.slice(1, -1);
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, '"': 34 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
      continue;
    }
    const n = body[i + 1] ?? '';
    if (/[0-7]/.test(n)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[n] ?? n.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
