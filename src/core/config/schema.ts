import { z } from 'zod';
import { DEFAULTS, REMOTE_DEFAULTS, type Config } from './defaults.js';
import { ConfigError } from './errors.js';
import { parseJsonText } from './json-text.js';

export { ConfigError } from './errors.js';

const ms = z.number().int().nonnegative();
const pos = z.number().int().positive();
const regexString = z.string().min(1).refine(isValidRegex, { message: 'is not a valid regular expression' });

const streamSchema = z.strictObject({
  name: z.string().min(1),
  paths: z.array(z.string().min(1)).min(1),
  priority: z.enum(['high', 'normal', 'low']).optional(),
});

const remoteSchema = z.strictObject({
  name: z.string().min(1).optional(),
  branch: z.string().min(1).nullable().optional(),
  pull: z.boolean().optional(),
  push: z.boolean().optional(),
  minIntervalMs: ms.optional(),
  conflict: z.enum(['manual', 'ours', 'theirs']).optional(),
});

/** Every key optional; unknown keys rejected at every level. */
export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  rules: z.array(z.string()).optional(),
  ruleFiles: z.array(z.string().min(1)).optional(),
  defaultAction: z.enum(['BLOCK', 'ALLOW', 'ANALYZE']).optional(),
  streams: z.array(streamSchema).min(1).optional(),
  autonomous: z
    .strictObject({
      commands: z.array(regexString).optional(),
      users: z.array(z.string().min(1)).optional(),
      cacheTtlMs: ms.optional(),
      correlationWindowMs: ms.optional(),
      fanotify: z.enum(['auto', 'on', 'off']).optional(),
    })
    .optional(),
  json: z
    .strictObject({
      volatileKeys: z.array(z.string().min(1)).optional(),
      detectTimestamps: z.boolean().optional(),
      maxBytes: pos.optional(),
    })
    .optional(),
  debounce: z
    .strictObject({
      defaultMs: ms.optional(),
      rules: z.array(z.strictObject({ glob: z.string().min(1), ms })).optional(),
      maxMs: ms.optional(),
      maxWaitMs: ms.optional(),
    })
    .optional(),
  rateLimit: z
    .strictObject({ maxPerHour: pos.optional(), maxPerDay: pos.optional(), minIntervalMs: ms.optional() })
    .optional(),
  commit: z
    .strictObject({ message: z.string().min(1).optional(), hooks: z.boolean().optional(), timeoutMs: pos.optional() })
    .optional(),
  rescanMs: ms.optional(),
  retry: z
    .strictObject({
      attempts: pos.optional(),
      baseMs: ms.optional(),
      maxMs: ms.optional(),
      breakerCooldownMs: ms.optional(),
    })
    .optional(),
  remote: remoteSchema.nullable().optional(),
  snapshots: z.strictObject({ keep: pos.optional() }).optional(),
  pause: z.strictObject({ maxMs: pos.optional() }).optional(),
  health: z.strictObject({ minFreeBytes: ms.optional() }).optional(),
  secrets: z.strictObject({ enabled: z.boolean().optional(), allow: z.array(z.string().min(1)).optional() }).optional(),
  churn: z
    .strictObject({ minEvents: pos.optional(), windowMs: pos.optional(), maxJitter: z.number().min(0).max(1).optional() })
    .optional(),
});

export type ConfigInput = z.infer<typeof configSchema>;

function isValidRegex(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}

function keyOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += (out ? '.' : '') + String(p);
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v && typeof v === 'object') v = (v as Record<PropertyKey, unknown>)[p];
    else return undefined;
  }
  return v;
}

/**
 * Validates parsed JSON and merges it over the defaults. Throws ConfigError naming the file and
 * the first offending key.
 */
export function resolveConfig(raw: unknown, file: string): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, null, 'the config must be a JSON object, e.g. {"rules": ["BLOCK:**/*.log:Logs"]}.');
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const k = keyOf([...issue.path, issue.keys[0]!]);
      throw new ConfigError(file, k, `unknown key. Known keys are listed in the README's config reference.`);
    }
    const k = keyOf(issue.path) || null;
    const got = valueAt(raw, issue.path);
    throw new ConfigError(file, k, `${issue.message} (got ${describe(got)}).`);
  }
  return mergeConfig(parsed.data);
}

/** Merges a validated partial config over DEFAULTS (objects merged one level deep, arrays replaced). */
export function mergeConfig(input: ConfigInput): Config {
  const d = DEFAULTS;
  const i = input;
  const remote =
    i.remote === undefined || i.remote === null ? null : { ...REMOTE_DEFAULTS, ...stripUndefined(i.remote) };
  return {
    rules: i.rules ?? [...d.rules],
    ruleFiles: i.ruleFiles ?? [...d.ruleFiles],
    defaultAction: i.defaultAction ?? d.defaultAction,
    streams: (i.streams ?? d.streams).map((s) => ({ name: s.name, paths: [...s.paths], priority: s.priority ?? 'normal' })),
    autonomous: { ...d.autonomous, ...stripUndefined(i.autonomous) },
    json: { ...d.json, ...stripUndefined(i.json) },
    debounce: { ...d.debounce, ...stripUndefined(i.debounce) },
    rateLimit: { ...d.rateLimit, ...stripUndefined(i.rateLimit) },
    commit: { ...d.commit, ...stripUndefined(i.commit) },
    rescanMs: i.rescanMs ?? d.rescanMs,
    retry: { ...d.retry, ...stripUndefined(i.retry) },
    remote,
    snapshots: { ...d.snapshots, ...stripUndefined(i.snapshots) },
    pause: { ...d.pause, ...stripUndefined(i.pause) },
    health: { ...d.health, ...stripUndefined(i.health) },
    secrets: { ...d.secrets, ...stripUndefined(i.secrets) },
    churn: { ...d.churn, ...stripUndefined(i.churn) },
  } as Config;
}

function stripUndefined<T extends object>(o: T | undefined | null): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Parses config text (JSON) with a line and column on syntax errors. */
export function parseConfigText(text: string, file: string): Config {
  return resolveConfig(parseJsonText(text, file), file);
}
