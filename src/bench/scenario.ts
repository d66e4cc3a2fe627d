/**
 * The benchmark scenario format (`bench/scenarios/*.json`, documented in bench/README.md):
 * schema, loading and validation. Errors name the file and the key, like config errors.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseJsonText } from '../core/config/json-text.js';
import { ConfigError, resolveConfig } from '../core/config/schema.js';
import type { Config } from '../core/config/defaults.js';

/** bench/scenarios of this checkout: src/bench and dist/bench both sit two levels below the root. */
export const SCENARIO_DIR = fileURLToPath(new URL('../../bench/scenarios/', import.meta.url));

const ms = z.number().int().nonnegative();
const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !/^\.git(\/|$)/.test(p), {
    message: 'must be a workspace-relative path without "..", outside .git',
  });

/** Autonomous write kinds: what one write of an agent or monitor does to a file. */
export const WRITE_KINDS = ['timestamp-json', 'append-log', 'content', 'json-content', 'commit-json'] as const;
export const WRITER_PLAYERS = ['claude-autonomous', 'claude-context-monitor'] as const;
export const SAVE_PATTERNS = ['plain', 'vim', 'vscode', 'jetbrains', 'emacs'] as const;
export const CHANGE_KINDS = ['append', 'replace', 'json-set', 'delete'] as const;

const taskSchema = z
  .strictObject({
    path: relPath,
    kind: z.enum(WRITE_KINDS),
    /** Period of a repeating write; the first one at `start` (default: one period in). */
    every: z.number().int().min(50).optional(),
    start: ms.optional(),
    /** Writes at these exact times (ms into the timeline). */
    at: z.array(ms).optional(),
    /** React to every new commit (HEAD moving) after `delayMs`: the loop a naive watcher feeds. */
    onCommit: z.strictObject({ delayMs: ms.optional() }).optional(),
    via: z.enum(['direct', 'shell']).optional(),
    /** With via "shell": how long the shell lives on after writing. */
    lingerMs: ms.optional(),
    /** Keep the file open for `ms`, writing `writes` times in all. */
    hold: z.strictObject({ ms: z.number().int().min(1), writes: z.number().int().min(1).optional() }).optional(),
  })
  .refine((t) => t.every !== undefined || t.at !== undefined || t.onCommit !== undefined, {
    message: 'needs "every", "at" or "onCommit" to say when it writes',
  });

const writerSchema = z.strictObject({
  player: z.enum(WRITER_PLAYERS),
  name: z.string().min(1).optional(),
  tasks: z.array(taskSchema).min(1),
});

const editSchema = z.strictObject({
  at: ms,
  path: relPath,
  pattern: z.enum(SAVE_PATTERNS).optional(),
  change: z.enum(CHANGE_KINDS).optional(),
  /** JSON key set by change "json-set". */
  key: z.string().min(1).optional(),
  /** Saves in this edit (a burst); only the last one's content is the user change. */
  saves: z.number().int().min(1).max(1000).optional(),
  gapMs: ms.optional(),
  /** Time between opening the file and the first save (swap/lock files exist meanwhile). */
  thinkMs: ms.optional(),
  /** vim/emacs: how long the editor stays open after the last save. */
  lingerMs: ms.optional(),
});

const stormSchema = z.strictObject({
  at: ms,
  dirs: z.array(relPath).min(1),
  files: z.number().int().min(1).max(100_000),
  bytes: z.number().int().min(0).max(1_000_000).optional(),
});

const eventSchema = z.strictObject({
  at: ms,
  /** Stop winnow (SIGTERM) and start it again, optionally with config overrides merged in. */
  action: z.literal('restart'),
  config: z.record(z.string(), z.unknown()).optional(),
});

const checkSchema = z.strictObject({
  /** At most `max` winnow commits by `beforeMs` into the timeline (e.g. a rate limit held). */
  maxCommitsBefore: z.strictObject({ beforeMs: ms, max: ms }).optional(),
});

export const scenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'must be kebab-case (a-z, 0-9, -)' })
    .optional(),
  description: z.string().optional(),
  durationMs: z.number().int().min(500).max(600_000),
  /** Timeline length under `--quick` (default: min(durationMs, 6000)). */
  quickMs: z.number().int().min(500).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  workspace: z
    .strictObject({
      files: z.record(z.string(), z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])).optional(),
      gitignore: z.array(z.string()).optional(),
      generate: z
        .array(z.strictObject({ dir: relPath, count: z.number().int().min(1).max(200_000), bytes: z.number().int().min(0).optional() }))
        .optional(),
    })
    .optional(),
  writers: z.array(writerSchema).optional(),
  edits: z.array(editSchema).optional(),
  storms: z.array(stormSchema).optional(),
  events: z.array(eventSchema).optional(),
  checks: checkSchema.optional(),
});

export type ScenarioInput = z.infer<typeof scenarioSchema>;
export type WriterTask = z.infer<typeof taskSchema>;
export type EditSpec = z.infer<typeof editSchema>;

/** A validated scenario, with its winnow config resolved and checked. */
export interface Scenario extends ScenarioInput {
  name: string;
  file: string;
  resolvedConfig: Config;
}

function keyOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : (out ? '.' : '') + String(p);
  return out;
}

/** The settle window a path waits for, from the scenario's config (first debounce rule, else default). */
export function settleMsOf(config: Config): number {
  return config.debounce.defaultMs;
}

/**
 * Validates parsed scenario JSON. Throws ConfigError naming the file and the first bad key; the
 * winnow config inside is checked by winnow's own schema, its keys prefixed with `config.`.
 */
export function parseScenario(raw: unknown, file: string): Scenario {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, null, 'a scenario must be a JSON object with at least "durationMs"; see bench/README.md.');
  }
  const r = scenarioSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new ConfigError(file, keyOf([...issue.path, issue.keys[0]!]), 'unknown key. The scenario format is in bench/README.md.');
    }
    throw new ConfigError(file, keyOf(issue.path) || null, `${issue.message}.`);
  }
  const s = r.data;
  const name = s.name ?? basename(file).replace(/\.json$/, '');
  let resolvedConfig: Config;
  try {
    resolvedConfig = resolveConfig(s.config ?? {}, file);
    for (const [i, ev] of (s.events ?? []).entries()) {
      if (ev.config) resolveConfig({ ...(s.config ?? {}), ...ev.config }, file);
      if (ev.at > s.durationMs) throw new ConfigError(file, `events[${i}].at`, `is after durationMs (${s.durationMs}).`);
    }
  } catch (e) {
    if (e instanceof ConfigError && e.file === file && !e.key?.startsWith('events')) {
      throw new ConfigError(file, e.key ? `config.${e.key}` : 'config', e.problem);
    }
    throw e;
  }
  for (const [i, ed] of (s.edits ?? []).entries()) {
    if (ed.at > s.durationMs) throw new ConfigError(file, `edits[${i}].at`, `is after durationMs (${s.durationMs}); the timeline ends there.`);
    if (ed.change === 'json-set' && !ed.path.endsWith('.json')) {
      throw new ConfigError(file, `edits[${i}].change`, '"json-set" needs a .json path.');
    }
  }
  const ids = new Set<string>();
  for (const [i, w] of (s.writers ?? []).entries()) {
    const id = w.name ?? w.player;
    if (ids.has(id)) throw new ConfigError(file, `writers[${i}].name`, `"${id}" is used twice; give each writer a distinct name.`);
    ids.add(id);
  }
  return { ...s, name, file, resolvedConfig };
}

/** Reads and validates one scenario file. */
export async function loadScenarioFile(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, null, `cannot read the scenario file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  const raw = parseJsonText(text, file);
  return parseScenario(raw, file);
}

/** Names of the scenarios shipped in bench/scenarios, sorted. */
export async function builtinScenarioNames(dir = SCENARIO_DIR): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort();
}

/**
 * Resolves `--scenario` values (names of shipped scenarios or file paths, repeatable or comma
 * separated) to scenarios; none given means every shipped scenario.
 */
export async function resolveScenarios(specs: string[], cwd: string, dir = SCENARIO_DIR): Promise<Scenario[]> {
  const builtin = await builtinScenarioNames(dir);
  const wanted = specs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0) return Promise.all(builtin.map((n) => loadScenarioFile(resolve(dir, `${n}.json`))));
  const out: Scenario[] = [];
  for (const w of wanted) {
    if (builtin.includes(w)) out.push(await loadScenarioFile(resolve(dir, `${w}.json`)));
    else if (w.endsWith('.json') || w.includes('/') || isAbsolute(w)) out.push(await loadScenarioFile(resolve(cwd, w)));
    else {
      throw new ConfigError('--scenario', null, `no scenario named "${w}". Shipped scenarios: ${builtin.join(', ') || '(none)'}; or give a path to a .json file.`);
    }
  }
  return out;
}
