/**
 * What a failed git call means for the syncer (STYLE.md habit 6): the caller retries what is
 * transient, stops on what needs a person, and says which.
 */
import { matchFailure, type FailureRule } from '../retry.js';

export type SyncFailure =
  /** Network down, DNS, connection refused, timeout: retry with backoff; commits stay local. */
  | 'unreachable'
  /** Authentication, permission or a server-side refusal (hook, protected branch): retrying will not help until a person fixes credentials. */
  | 'auth'
  /** The remote moved between fetch and push (non-fast-forward): pull again, then push. */
  | 'rejected'
  /** Another git process holds a lock: retry soon. */
  | 'locked'
  /** The remote branch or repository is missing. */
  | 'missing'
  | 'other';

const PUSH_REFUSED = /non-fast-forward|\[rejected\]|fetch first|failed to push some refs|stale info|updates were rejected/;

/** The syncer's failure table (matched on lower-cased stderr): the first matching row wins. */
export const SYNC_FAILURES: readonly FailureRule<SyncFailure>[] = [
  { re: /\[remote rejected\]/, value: 'auth' },
  // A refused push that names a permission, a hook or a protected branch is not a race: no pull fixes it.
  { re: PUSH_REFUSED, and: /permission|denied|hook declined|protected branch/, value: 'auth' },
  { re: PUSH_REFUSED, value: 'rejected' },
  {
    re: /authentication failed|permission denied|could not read username|terminal prompts disabled|access denied|403|401|publickey|host key verification failed/,
    value: 'auth',
  },
  { re: /index\.lock|unable to create .*\.lock|another git process/, value: 'locked' },
  { re: /couldn't find remote ref|remote ref does not exist/, value: 'missing' },
  {
    re: /could not resolve host|connection refused|connection timed out|network is unreachable|could not read from remote repository|unable to access|does not appear to be a git repository|no such file or directory|failed to connect|early eof|the remote end hung up|operation timed out/,
    value: 'unreachable',
  },
];

/** What a failed fetch, push or other sync step means (a timeout is an unreachable remote). */
export function classifySyncFailure(stderr: string, timedOut = false): SyncFailure {
  if (timedOut) return 'unreachable';
  return matchFailure(stderr.toLowerCase(), SYNC_FAILURES) ?? 'other';
}

/**
 * Failures retrying cannot fix until a person acts (credentials, a server-side refusal, a remote
 * that is not configured): the breaker opens at once for its cooldown instead of retrying after
 * seconds like a network blip. Scheduled syncs wait; `winnow sync` still runs.
 */
export function needsAPerson(f: string | undefined): boolean {
  return f === 'auth' || f === 'config';
}
