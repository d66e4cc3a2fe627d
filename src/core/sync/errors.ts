/**
 * What a failed git call means for the syncer (STYLE.md habit 6): the caller retries what is
 * transient, stops on what needs a person, and says which.
 */
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

export function classifyGitFailure(stderr: string, timedOut = false): SyncFailure {
  if (timedOut) return 'unreachable';
  const s = stderr.toLowerCase();
  if (/\[remote rejected\]/.test(s)) return 'auth';
  if (/non-fast-forward|\[rejected\]|fetch first|failed to push some refs|stale info|updates were rejected/.test(s)) {
    if (/permission|denied|hook declined|protected branch/.test(s)) return 'auth';
    return 'rejected';
  }
  if (/authentication failed|permission denied|could not read username|terminal prompts disabled|access denied|403|401|publickey|host key verification failed/.test(s)) return 'auth';
  if (/index\.lock|unable to create .*\.lock|another git process/.test(s)) return 'locked';
  if (/couldn't find remote ref|remote ref does not exist/.test(s)) return 'missing';
  if (/could not resolve host|connection refused|connection timed out|network is unreachable|could not read from remote repository|unable to access|does not appear to be a git repository|no such file or directory|failed to connect|early eof|the remote end hung up|operation timed out/.test(s)) return 'unreachable';
  return 'other';
}

/** Only these are worth an automatic retry; `auth` and `other` also count toward the breaker. */
export function isTransient(f: SyncFailure): boolean {
  return f === 'unreachable' || f === 'locked' || f === 'rejected';
}
