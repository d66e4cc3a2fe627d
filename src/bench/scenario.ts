/**
 * The benchmark scenario format (`bench/scenarios/*.json`, documented in bench/README.md):
 * schema, loading and validation. Errors name the file and the key, like config errors.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { array, enums, literal, number, object, optional, record, refine, string, union, unknown, validate, type Infer } from 'superstruct';
import { parseJsonText } from '../core/config/json-text.js';
import { ConfigError, firstProblem, int, ms, nonEmpty, nonEmptyArray, resolveConfig } from '../core/config/schema.js';
import type { Config } from '../core/config/defaults.js';

/** bench/scenarios of this checkout: src/bench and dist/bench both sit two levels below the root. */
export const SCENARIO_DIR = fileURLToPath(new URL('../../bench/scenarios/', import.meta.url));

const relPath = refine(
  nonEmpty,
  'relPath',
  (p) => (!p.startsWith('/') && !p.split('/').includes('..') && !/^\.git(\/|$)/.test(p)) || 'must be a workspace-relative path without "..", outside .git',
);

/** Autonomous write kinds: what one write of an agent or monitor does to a file. */
export const WRITE_KINDS = ['timestamp-json', 'append-log', 'content', 'json-content', 'commit-json'] as const;
export const WRITER_PLAYERS = ['claude-autonomous', 'claude-context-monitor'] as const;
export const SAVE_PATTERNS = ['plain', 'vim', 'vscode', 'jetbrains', 'emacs'] as const;
export const CHANGE_KINDS = ['append', 'replace', 'json-set', 'delete'] as const;

const taskSchema = refine(
  object({
    path: relPath,
    kind: enums(WRITE_KINDS),
    /** Period of a repeating write; the first one at `start` (default: one period in). */
    every: optional(int(50)),
    start: optional(ms),
    /** Writes at these exact times (ms into the timeline). */
    at: optional(array(ms)),
    /** React to every new commit (HEAD moving) after `delayMs`: the loop a naive watcher feeds. */
    onCommit: optional(object({ delayMs: optional(ms) })),
    /**
     * `direct`, `shell` (a child `sh -c 'cat > F'`), `xargs` (`… | xargs -0 -I{} cp SRC {}`) or
     * `find-exec` (`find SRC -exec cp {} F ;`): short-lived children that have exited by the time
     * the write is seen.
     */
    via: optional(enums(['direct', 'shell', 'xargs', 'find-exec'] as const)),
    /** With via "shell": how long the shell lives on after writing. */
    lingerMs: optional(ms),
    /** Keep the file open for `ms`, writing `writes` times in all. */
    hold: optional(object({ ms: int(1), writes: optional(int(1)) })),
  }),
  'when',
  (t) => t.every !== undefined || t.at !== undefined || t.onCommit !== undefined || 'needs "every", "at" or "onCommit" to say when it writes',
);

const writerSchema = object({
  player: enums(WRITER_PLAYERS),
  name: optional(nonEmpty),
  /** Working directory of the writer process (absolute; default the workspace): `/` for a monitor started by systemd. */
  cwd: optional(nonEmpty),
  tasks: nonEmptyArray(taskSchema),
  /** Files under `dir` the writer opens for reading at start and holds until it ends. */
  openFiles: optional(object({ dir: relPath, count: int(1, 10_000) })),
});

const editSchema = object({
  at: ms,
  path: relPath,
  pattern: optional(enums(SAVE_PATTERNS)),
  change: optional(enums(CHANGE_KINDS)),
  /** JSON key set by change "json-set". */
  key: optional(nonEmpty),
  /** Saves in this edit (a burst); only the last one's content is the user change. */
  saves: optional(int(1, 1000)),
  gapMs: optional(ms),
  /** Time between opening the file and the first save (swap/lock files exist meanwhile). */
  thinkMs: optional(ms),
  /** vim/emacs: how long the editor stays open after the last save. */
  lingerMs: optional(ms),
});

const stormSchema = object({
  at: ms,
  dirs: nonEmptyArray(relPath),
  files: int(1, 100_000),
  bytes: optional(int(0, 1_000_000)),
});

const eventSchema = object({
  at: ms,
  /** Stop winnow (SIGTERM) and start it again, optionally with config overrides merged in. */
  action: literal('restart'),
  config: optional(record(string(), unknown())),
});

const checkSchema = object({
  /** At most `max` winnow commits by `beforeMs` into the timeline (e.g. a rate limit held). */
  maxCommitsBefore: optional(object({ beforeMs: ms, max: ms })),
  /** p95 latency target above the settle window (default 250 ms: the storm target). */
  latencyOverSettleMs: optional(ms),
  /** Upper bounds: ms from spawn to ready, peak RSS in MB, CPU % over the idle phase. */
  readyMs: optional(ms),
  rssMb: optional(number()),
  idleCpuPercent: optional(number()),
});

export const scenarioSchema = object({
  $schema: optional(string()),
  name: optional(refine(string(), 'kebab', (v) => /^[a-z0-9][a-z0-9-]*$/.test(v) || 'must be kebab-case (a-z, 0-9, -)')),
  description: optional(string()),
  durationMs: int(500, 600_000),
  /** Timeline length under `--quick` (default: min(durationMs, 6000)). */
  quickMs: optional(int(500)),
  config: optional(record(string(), unknown())),
  workspace: optional(
    object({
      files: optional(record(string(), union([string(), record(string(), unknown()), array(unknown())]))),
      gitignore: optional(array(string())),
      generate: optional(array(object({ dir: relPath, count: int(1, 200_000), bytes: optional(int(0)) }))),
    }),
  ),
  /**
   * A quiet phase between ready and t0: nothing is written for `ms`; the daemon's CPU is measured
   * over it after skipping its first `skipMs` (default 2000).
   */
  idle: optional(object({ ms: int(1000, 600_000), skipMs: optional(ms) })),
  writers: optional(array(writerSchema)),
  edits: optional(array(editSchema)),
  storms: optional(array(stormSchema)),
  events: optional(array(eventSchema)),
  checks: optional(checkSchema),
});

export type ScenarioInput = Infer<typeof scenarioSchema>;
export type WriterTask = Infer<typeof taskSchema>;
export type EditSpec = Infer<typeof editSchema>;

/** A validated scenario, with its winnow config resolved and checked. */
export interface Scenario extends ScenarioInput {
  name: string;
  file: string;
  resolvedConfig: Config;
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
  const [err, s] = validate(raw, scenarioSchema);
  if (err) {
    const p = firstProblem(err, raw);
    if (p.unknown) throw new ConfigError(file, p.key, 'unknown key. The scenario format is in bench/README.md.');
    throw new ConfigError(file, p.key, `${p.message}.`);
  }
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
