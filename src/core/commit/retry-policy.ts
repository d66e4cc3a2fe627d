/**
 * What to do about a failed git call, how long to back off, and the circuit breaker — all pure
 * (STYLE.md habits 2, 6, 7): time and randomness are arguments.
 */

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

const RULES: { kind: FailureKind; action: RetryAction; re: RegExp; reason: string }[] = [
  // First: "Unable to create '…/index.lock': No space left on device" is the disk, not a lock.
  {
    kind: 'disk-full',
    action: 'retry',
    // git words a full disk many ways: the errno text (after "unable to write …", "write error",
    // "unable to create temporary file"), "Out of diskspace" (pack writes) and "short write".
    re: /No space left on device|ENOSPC|Out of disk ?space|Disk quota exceeded|EDQUOT|short write|unable to write (new index file|loose object|sha1 file)/i,
    reason: 'the disk is full',
  },
  {
    kind: 'index-lock',
    action: 'retry',
    re: /index\.lock': File exists|Unable to create '.*\.lock'|another git process seems to be running|cannot lock ref|Unable to create .*\.lock/i,
    reason: 'another git process holds a lock in the repository',
  },
  {
    kind: 'remote-down',
    action: 'retry',
    re: /Could not resolve host|Connection (refused|timed out|reset)|Could not read from remote repository|unable to access '.*':|The remote end hung up|Network is unreachable|early EOF|remote: Internal Server Error|HTTP 5\d\d/i,
    reason: 'the remote cannot be reached',
  },
  {
    kind: 'nothing-to-commit',
    action: 'noop',
    re: /nothing to commit|no changes added to commit|nothing added to commit/i,
    reason: 'nothing to commit',
  },
  {
    kind: 'pathspec-vanished',
    action: 'replan',
    re: /pathspec '.*' did not match any file|did not match any file\(s\) known to git|unable to (stat|index file)|No such file or directory|could not open '.*' for reading/i,
    reason: 'a path changed or vanished while it was being committed',
  },
];

/**
 * @example classifyGitFailure({ code: 128, stderr: "fatal: Unable to create '/r/.git/index.lock': File exists.", timedOut: false })
 *   // { kind: 'index-lock', action: 'retry', reason: 'another git process holds a lock in the repository' }
 */
export function classifyGitFailure(f: FailureInfo): Classified {
  if (f.timedOut) return { kind: 'timeout', action: 'retry', reason: 'git did not answer in time' };
  const text = f.stdout ? `${f.stderr}\n${f.stdout}` : f.stderr;
  for (const r of RULES) if (r.re.test(text)) return { kind: r.kind, action: r.action, reason: r.reason };
  // Silent failure: a commit hook that refused without a word looks exactly like this, and it is
  // not "nothing to commit" — treating it so would drop the batch.
  if (f.stderr.trim() === '' && !f.stdout?.trim()) {
    return { kind: 'fatal', action: 'abort', reason: `git exited ${f.code} without a message (a commit hook that refused?)` };
  }
  const first = f.stderr.trim().split('\n').find((l) => l.trim()) ?? `exit ${f.code}`;
  return { kind: 'fatal', action: 'abort', reason: first.replace(/^(fatal|error): /, '') };
}

export interface BackoffConfig {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`, with
 * "equal jitter" — half fixed, half random — so that several winnow instances (or winnow and the
 * person's own git) do not retry in lock step, while a retry never comes sooner than half the step.
 *
 * @param random a number in [0, 1) (Math.random in production, fixed in tests)
 */
export function backoffMs(attempt: number, cfg: BackoffConfig, random: number): number {
  const exp = Math.min(cfg.maxMs, cfg.baseMs * 2 ** Math.max(0, attempt - 1));
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(exp / 2 + (exp / 2) * r);
}

export interface BreakerConfig {
  /** Consecutive failures that open the breaker (`retry.attempts`). */
  attempts: number;
  cooldownMs: number;
}

export interface BreakerState {
  readonly phase: 'closed' | 'open' | 'half-open';
  readonly failures: number;
  /** While open: when it becomes half-open. */
  readonly until: number | null;
  readonly lastError: string | null;
}

export const CLOSED: BreakerState = Object.freeze({ phase: 'closed', failures: 0, until: null, lastError: null });

/** The breaker as seen at `now`: an open breaker whose cooldown has passed is half-open. */
export function breakerAt(b: BreakerState, now: number): BreakerState {
  if (b.phase === 'open' && b.until !== null && now >= b.until) return { ...b, phase: 'half-open' };
  return b;
}

/** True when an attempt may be made at `now` (closed, or half-open for one trial). */
export function breakerAllows(b: BreakerState, now: number): boolean {
  return breakerAt(b, now).phase !== 'open';
}

/**
 * Records a failure at `now`. Opens after `attempts` consecutive failures, at once on a failed
 * half-open trial, and at once when `force` (an `abort`: retrying cannot help).
 */
export function breakerFailure(b: BreakerState, cfg: BreakerConfig, now: number, error: string, force = false): BreakerState {
  const cur = breakerAt(b, now);
  const failures = cur.failures + 1;
  if (force || cur.phase === 'half-open' || failures >= cfg.attempts) {
    return { phase: 'open', failures, until: now + cfg.cooldownMs, lastError: error };
  }
  return { phase: 'closed', failures, until: null, lastError: error };
}

/** A success closes the breaker and forgets the failures (the last error stays for `status`). */
export function breakerSuccess(b: BreakerState): BreakerState {
  return { phase: 'closed', failures: 0, until: null, lastError: b.lastError };
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
