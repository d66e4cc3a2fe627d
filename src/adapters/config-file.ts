import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadedConfig } from '../core/config/load.js';
import { ConfigError } from '../core/config/schema.js';

export type { LoadedConfig };

/**
 * The package's `rules/` folder. Two levels up from this file both in `src/adapters/` (tsx) and
 * in `dist/adapters/` (the build).
 */
export const BUILTIN_RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));

/** File text, or null when it does not exist. Other read failures are config errors naming the file. */
export function readTextFile(abs: string): string | null {
  try {
    return readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code === 'EISDIR') throw new ConfigError(abs, null, 'is a directory, not a file.');
    throw new ConfigError(abs, null, `cannot be read (${code ?? (e as Error).message}); check its permissions.`);
  }
}

/**
 * Loads `.winnow.json` at `root` (or `configPath`: relative to the current directory, as a user
 * typed it) with its rule files, and compiles the rules. Throws ConfigError (exit 2).
 */
export function loadWorkspaceConfig(root: string, configPath?: string): LoadedConfig {
  return loadConfig({
    root,
    configPath: configPath === undefined ? undefined : resolve(configPath),
    readText: readTextFile,
    builtinRulesDir: BUILTIN_RULES_DIR,
  });
}
