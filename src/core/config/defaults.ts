/**
 * Every config key with its default. One frozen object: the README's config reference is this.
 * Numbers are milliseconds unless the key says otherwise.
 */
export const DEFAULTS = deepFreeze({
  rules: [] as string[],
  ruleFiles: ['builtin:default'] as string[],
  defaultAction: 'ANALYZE' as 'BLOCK' | 'ALLOW' | 'ANALYZE',
  streams: [{ name: 'all', paths: ['.'], priority: 'normal' as 'high' | 'normal' | 'low' }],
  autonomous: {
    commands: ['claude-autonomous', 'claude-.*-monitor'] as string[],
    users: [] as string[],
    cacheTtlMs: 30_000,
    correlationWindowMs: 2_000,
    fanotify: 'auto' as 'auto' | 'on' | 'off',
    /**
     * Process tracing through strace (evidence rung 2): `auto` traces when fanotify is not active,
     * `on` traces always (and fails start-up without strace), `off` never.
     */
    trace: 'auto' as 'auto' | 'on' | 'off',
  },
  json: {
    volatileKeys: ['timestamp', 'last_update', 'updated_at', 'session_id'] as string[],
    detectTimestamps: true,
    maxBytes: 5_242_880,
  },
  debounce: {
    defaultMs: 30_000,
    rules: [{ glob: '**/*.{sh,py,js,ts}', ms: 5_000 }] as { glob: string; ms: number }[],
    maxMs: 300_000,
    maxWaitMs: 600_000,
  },
  rateLimit: { maxPerHour: 10, maxPerDay: 50, minIntervalMs: 0 },
  commit: {
    message: 'winnow: {summary}',
    hooks: false,
    timeoutMs: 30_000,
    /** Each commit's evidence per path in git notes under refs/notes/winnow. */
    notes: true,
    /** A shell command that reads the staged diff on stdin and prints the message; null: the template. */
    messageCommand: null as string | null,
    messageTimeoutMs: 10_000,
    /** 50 MiB: under the 100 MB a file may have on common git hosts (GitHub rejects larger pushes). */
    maxFileBytes: 52_428_800,
  },
  rescanMs: 600_000,
  retry: { attempts: 5, baseMs: 2_000, maxMs: 60_000, breakerCooldownMs: 300_000 },
  remote: null as null | {
    name: string;
    branch: string | null;
    pull: boolean;
    push: boolean;
    minIntervalMs: number;
    conflict: 'manual' | 'ours' | 'theirs';
    pullIntervalMs: number | null;
    squashBeforePush: boolean;
    pushNotes: boolean;
  },
  snapshots: { keep: 10 },
  pause: { maxMs: 300_000 },
  health: { minFreeBytes: 104_857_600 },
  secrets: { enabled: true, allow: [] as string[] },
  churn: { minEvents: 5, windowMs: 600_000, maxJitter: 0.25 },
});

export const REMOTE_DEFAULTS = deepFreeze({
  name: 'origin',
  branch: null as string | null,
  pull: true,
  push: true,
  minIntervalMs: 300_000,
  conflict: 'manual' as 'manual' | 'ours' | 'theirs',
  /** Pull another machine's commits this often while the workspace is quiet; null: only around commits. */
  pullIntervalMs: null as number | null,
  squashBeforePush: false,
  pushNotes: true,
});

export type Config = typeof DEFAULTS;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o as object)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
