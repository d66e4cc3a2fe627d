/**
 * Loads the workspace config and its rule files through an injected reader (pure: the real-fs
 * wrapper is adapters/config-file.ts). Every problem is a ConfigError naming the file, the key
 * and, for rule files, the line.
 */
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Config } from './defaults.js';
import { DEFAULTS } from './defaults.js';
import { ConfigError, parseConfigText } from './schema.js';
import { compileRules, parseRuleLine, parseRules, validateGlob, type Rule, type RuleSet } from '../classify/rules.js';

export interface LoadedConfig {
  config: Config;
  rules: RuleSet;
  /** Absolute path of the config file read, or null when defaults applied. */
  configFile: string | null;
  /** Rule sources in match order: the config file (when it has inline rules), then each rule file. */
  ruleSources: string[];
}

export interface LoadConfigOptions {
  /** Absolute workspace root. */
  root: string;
  /** Config file; relative paths are taken from `root`. Default: `<root>/.winnow.json` if present. */
  configPath?: string;
  /** Text of an absolute path, or null when there is no such file. */
  readText(abs: string): string | null;
  /** Absolute path of the package's `rules/` folder (for `builtin:NAME`). */
  builtinRulesDir: string;
}

export const CONFIG_FILE_NAME = '.winnow.json';
/** Shipped rule files, named in messages when a `builtin:` name is unknown. */
export const BUILTIN_RULE_FILES = ['default', 'claude-workspace'] as const;

/** Shows a path relative to the workspace when it is inside it (shorter messages and reasons). */
export function displayPath(root: string, abs: string): string {
  const rel = relative(root, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return abs;
  return rel.split(sep).join('/');
}

/**
 * Reads the config (or uses defaults), then inline `rules`, then `ruleFiles` in order, and
 * compiles them.
 *
 * @example
 * loadConfig({ root: '/ws', readText: (p) => files[p] ?? null, builtinRulesDir: '/pkg/rules' })
 */
export function loadConfig(opts: LoadConfigOptions): LoadedConfig {
  const { root, readText } = opts;
  let configFile: string | null = null;
  let config: Config;
  if (opts.configPath !== undefined) {
    const abs = isAbsolute(opts.configPath) ? opts.configPath : join(root, opts.configPath);
    const text = readText(abs);
    if (text === null) {
      throw new ConfigError(opts.configPath, null, 'config file not found. Check the --config path, or leave it out to use .winnow.json at the workspace root.');
    }
    configFile = abs;
    config = parseConfigText(text, displayPath(root, abs));
  } else {
    const abs = join(root, CONFIG_FILE_NAME);
    const text = readText(abs);
    if (text === null) config = cloneDefaults();
    else {
      configFile = abs;
      config = parseConfigText(text, CONFIG_FILE_NAME);
    }
  }
  const cfgName = configFile ? displayPath(root, configFile) : '(defaults)';

  for (const [i, r] of config.debounce.rules.entries()) {
    const problem = validateGlob(r.glob);
    if (problem) throw new ConfigError(cfgName, `debounce.rules[${i}].glob`, problem);
  }
  for (const [i, g] of config.secrets.allow.entries()) {
    const problem = validateGlob(g);
    if (problem) throw new ConfigError(cfgName, `secrets.allow[${i}]`, problem);
  }

  const rules: Rule[] = [];
  const ruleSources: string[] = [];
  config.rules.forEach((text, i) => {
    const key = `rules[${i}]`;
    if (text.trim() === '') throw new ConfigError(cfgName, key, 'empty rule: write ACTION:GLOB[:DESCRIPTION], e.g. "BLOCK:**/*.log:Logs".');
    const r = parseRuleLine(text, cfgName, i, key);
    if (r) rules.push(r);
  });
  if (rules.length) ruleSources.push(cfgName);

  config.ruleFiles.forEach((entry, i) => {
    const key = `ruleFiles[${i}]`;
    let abs: string;
    let source: string;
    if (entry.startsWith('builtin:')) {
      const name = entry.slice('builtin:'.length);
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
        throw new ConfigError(cfgName, key, `${JSON.stringify(entry)} is not a built-in rule file name; built-ins are ${builtinList()}.`);
      }
      abs = join(opts.builtinRulesDir, `${name}.rules`);
      source = entry;
    } else {
      abs = isAbsolute(entry) ? entry : join(root, entry);
      source = displayPath(root, abs);
    }
    const text = readText(abs);
    if (text === null) {
      const hint = entry.startsWith('builtin:')
        ? `there is no built-in rule file ${JSON.stringify(entry)}; built-ins are ${builtinList()}.`
        : `rule file ${JSON.stringify(entry)} not found (looked for ${abs}); paths are relative to the workspace root.`;
      throw new ConfigError(cfgName, key, hint);
    }
    rules.push(...parseRules(text, source));
    ruleSources.push(source);
  });

  return { config, rules: compileRules(rules, config.defaultAction), configFile, ruleSources };
}

function builtinList(): string {
  return BUILTIN_RULE_FILES.map((n) => `builtin:${n}`).join(', ');
}

/** A mutable copy of the frozen defaults, the same shape resolveConfig returns. */
function cloneDefaults(): Config {
  return structuredClone(DEFAULTS) as Config;
}
