import {
  array,
  boolean,
  enums,
  integer,
  nullable,
  number,
  object,
  optional,
  refine,
  string,
  validate,
  type Infer,
  type Struct,
  type StructError,
} from 'superstruct/dist/index.mjs';
import { DEFAULTS, REMOTE_DEFAULTS, type Config } from './defaults.js';
import { ConfigError } from './errors.js';
import { parseJsonText } from './json-text.js';

export { ConfigError } from './errors.js';

// superstruct, not zod: the validator's footprint counts against the memory target
// (docs/dependencies.md has the measurement).
// `object()` rejects unknown keys at every level; `optional()` allows a key to be absent. Each
// refinement carries the sentence a person reads (see firstProblem).
/** A number (`number()` or `integer()`) in [lo, hi], said in words when it is not. */
const inRange = (base: Struct<number>, lo: number, hi: number) =>
  refine(base, 'range', (v) => (v >= lo && v <= hi) || (hi === Infinity ? `must be ${lo} or more` : `must be between ${lo} and ${hi}`));
/** A whole number in [lo, hi]. */
export const int = (lo: number, hi = Infinity) => inRange(integer(), lo, hi);
export const ms = int(0);
export const pos = int(1);
export const nonEmpty = refine(string(), 'nonEmpty', (v) => v.length > 0 || 'must not be empty');
/** An array with at least one element. */
export const nonEmptyArray = <T>(of: Struct<T>) => refine(array(of), 'nonEmpty', (v) => v.length > 0 || 'must list at least one entry');
const regexString = refine(nonEmpty, 'regex', (v) => isValidRegex(v) || 'is not a valid regular expression');

const streamSchema = object({
  name: nonEmpty,
  paths: nonEmptyArray(nonEmpty),
  priority: optional(enums(['high', 'normal', 'low'] as const)),
});

const remoteSchema = object({
  name: optional(nonEmpty),
  branch: optional(nullable(nonEmpty)),
  pull: optional(boolean()),
  push: optional(boolean()),
  minIntervalMs: optional(ms),
  conflict: optional(enums(['manual', 'ours', 'theirs'] as const)),
  pullIntervalMs: optional(nullable(int(1_000))),
  squashBeforePush: optional(boolean()),
  pushNotes: optional(boolean()),
});

/** Every key optional; unknown keys rejected at every level. */
export const configSchema = object({
  $schema: optional(string()),
  rules: optional(array(string())),
  ruleFiles: optional(array(nonEmpty)),
  defaultAction: optional(enums(['BLOCK', 'ALLOW', 'ANALYZE'] as const)),
  streams: optional(nonEmptyArray(streamSchema)),
  autonomous: optional(
    object({
      commands: optional(array(regexString)),
      users: optional(array(nonEmpty)),
      cacheTtlMs: optional(ms),
      correlationWindowMs: optional(ms),
      fanotify: optional(enums(['auto', 'on', 'off'] as const)),
      trace: optional(enums(['auto', 'on', 'off'] as const)),
    }),
  ),
  json: optional(
    object({
      volatileKeys: optional(array(nonEmpty)),
      detectTimestamps: optional(boolean()),
      maxBytes: optional(pos),
    }),
  ),
  debounce: optional(
    object({
      defaultMs: optional(ms),
      rules: optional(array(object({ glob: nonEmpty, ms }))),
      maxMs: optional(ms),
      maxWaitMs: optional(ms),
    }),
  ),
  rateLimit: optional(object({ maxPerHour: optional(pos), maxPerDay: optional(pos), minIntervalMs: optional(ms) })),
  commit: optional(
    object({
      message: optional(nonEmpty),
      hooks: optional(boolean()),
      timeoutMs: optional(pos),
      notes: optional(boolean()),
      messageCommand: optional(nullable(nonEmpty)),
      messageTimeoutMs: optional(pos),
      maxFileBytes: optional(pos),
    }),
  ),
  rescanMs: optional(ms),
  retry: optional(
    object({
      attempts: optional(pos),
      baseMs: optional(ms),
      maxMs: optional(ms),
      breakerCooldownMs: optional(ms),
    }),
  ),
  remote: optional(nullable(remoteSchema)),
  snapshots: optional(object({ keep: optional(pos) })),
  pause: optional(object({ maxMs: optional(pos) })),
  health: optional(object({ minFreeBytes: optional(ms) })),
  secrets: optional(object({ enabled: optional(boolean()), allow: optional(array(nonEmpty)) })),
  churn: optional(object({ minEvents: optional(pos), windowMs: optional(pos), maxJitter: optional(inRange(number(), 0, 1)) })),
});

export type ConfigInput = Infer<typeof configSchema>;

function isValidRegex(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first problem superstruct found, as the key it names and what to say. An unknown key is
 * reported by superstruct as a value of type `never` at that key.
 */
export function firstProblem(err: StructError, raw: unknown): { key: string | null; unknown: boolean; message: string } {
  const f = err.failures()[0] ?? err;
  const key = keyOf(f.path) || null;
  if (f.type === 'never') return { key, unknown: true, message: 'unknown key' };
  let what: string;
  if (f.refinement) what = f.message; // ours, already a sentence
  else if (f.type === 'enums') what = `must be one of ${/`(.*)`/.exec(f.message)?.[1]?.replace(/,/g, ', ') ?? 'the documented values'}`;
  else what = TYPE_WORDS[f.type] ?? f.message;
  return { key, unknown: false, message: `${what} (got ${describe(valueAt(raw, f.path))})` };
}

const TYPE_WORDS: Record<string, string> = {
  string: 'must be a string',
  number: 'must be a number',
  integer: 'must be a whole number',
  boolean: 'must be true or false',
  array: 'must be an array',
  object: 'must be an object',
  nullable: 'must be an object or null',
};

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
  const [err, parsed] = validate(raw, configSchema);
  if (err) {
    const p = firstProblem(err, raw);
    if (p.unknown) throw new ConfigError(file, p.key, `unknown key. Known keys are listed in the README's config reference.`);
    throw new ConfigError(file, p.key, `${p.message}.`);
  }
  return mergeConfig(parsed);
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
