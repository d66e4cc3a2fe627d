import type { FailureInfo } from '../../core/commit/retry-policy.js';

/** The shape of a failed git call (the adapter's GitError); duck-typed so daemon never imports adapters. */
export function failureInfo(e: unknown): FailureInfo {
  if (e && typeof e === 'object' && 'stderr' in e && 'timedOut' in e) {
    const g = e as { code?: number | null; stderr: string; timedOut: boolean; stdout?: string };
    return { code: g.code ?? null, stderr: String(g.stderr), timedOut: Boolean(g.timedOut), stdout: g.stdout ? String(g.stdout) : '' };
  }
  const err = e as NodeJS.ErrnoException;
  return { code: null, stderr: `${err?.code ? err.code + ': ' : ''}${err?.message ?? String(e)}`, timedOut: false };
}
