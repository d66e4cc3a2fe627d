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
    config = parseWithLine(text, displayPath(root, abs));
  } else {
    const abs = join(root, CONFIG_FILE_NAME);
    const text = readText(abs);
    if (text === null) config = cloneDefaults();
    else {
      configFile = abs;
      config = parseWithLine(text, CONFIG_FILE_NAME);
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

/**
 * parseConfigText finds the line only when JSON.parse names a position, which Node 20 does not
 * for "Unexpected token" errors; then the line comes from our own scan.
 */
function parseWithLine(text: string, file: string): Config {
  try {
    return parseConfigText(text, file);
  } catch (e) {
    if (!(e instanceof ConfigError) || e.line !== undefined || e.key !== null || !e.problem.startsWith('not valid JSON')) throw e;
    const at = jsonErrorOffset(text);
    if (at === null) throw e;
    const line = text.slice(0, at).split('\n').length;
    const col = at - text.lastIndexOf('\n', at - 1);
    const problem = `not valid JSON at line ${line}, column ${col} (near ${JSON.stringify(text.slice(at, at + 12))}). Check for a missing comma or quote, or a trailing comma.`;
    throw new ConfigError(file, null, problem, line);
  }
}

/** Offset of the first JSON syntax error, or null when the text parses. Just enough JSON to place the error. */
export function jsonErrorOffset(text: string): number | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const lit = (w: string) => {
    if (text.startsWith(w, i)) i += w.length;
    else fail();
  };
  const str = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') str();
    else if (c === 't') lit('true');
    else if (c === 'f') lit('false');
    else if (c === 'n') lit('null');
    else {
      const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      if (!m) fail();
      i += m![0].length;
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return null;
  } catch (at) {
    if (typeof at === 'number') return Math.min(at, text.length);
    throw at;
  }
}

function builtinList(): string {
  return BUILTIN_RULE_FILES.map((n) => `builtin:${n}`).join(', ');
}

/** A mutable copy of the frozen defaults, the same shape resolveConfig returns. */
function cloneDefaults(): Config {
  return structuredClone(DEFAULTS) as Config;
}
