import type { FailureInfo } from '../../core/commit/retry-policy.js';
import { asGitFailure } from '../git-calls.js';

/** The shape of a failed git call (the adapter's GitError), or of any other error, for the retry policy. */
export function failureInfo(e: unknown): FailureInfo {
  const g = asGitFailure(e);
  if (g) return g;
  const err = e as NodeJS.ErrnoException;
  return { code: null, stderr: `${err?.code ? err.code + ': ' : ''}${err?.message ?? String(e)}`, timedOut: false };
}
