/**
 * The config file changed on disk (an edit, or a pull): the running config stays as it was — a
 * change is applied on the next start, never silently — and the keys that differ are named,
 * security-relevant ones (what may be committed, who counts as autonomous) at warn level.
 */
import { join } from 'node:path';
import type { Config } from '../../core/config/defaults.js';
import { parseConfigText } from '../../core/config/schema.js';
import type { Fs, Logger } from '../../ports/index.js';

/** Config keys that decide what may be committed or who counts as autonomous. */
const SECURITY_KEYS = new Set(['secrets', 'rules', 'ruleFiles', 'defaultAction', 'autonomous', 'remote', 'health']);

export async function reportConfigChange(deps: { root: string; config: Config; fs: Fs; logger: Logger }, path: string): Promise<void> {
  const { config, logger } = deps;
  let next: Config;
  try {
    next = parseConfigText((await deps.fs.readFile(join(deps.root, path))).toString('utf8'), path);
  } catch (e) {
    logger.log('warn', 'the config file changed on disk and is not valid; the running config stays', { path, error: (e as Error).message });
    return;
  }
  const changed = Object.keys(next).filter(
    (k) => JSON.stringify((next as Record<string, unknown>)[k]) !== JSON.stringify((config as Record<string, unknown>)[k]),
  );
  if (!changed.length) return;
  const sensitive = changed.filter((k) => SECURITY_KEYS.has(k) || (k === 'commit' && next.commit.hooks !== config.commit.hooks));
  logger.log(sensitive.length ? 'warn' : 'info', `the config file ${path} changed on disk; restart winnow to apply it (the running config stays until then)`, {
    path,
    changedKeys: changed,
    ...(sensitive.length ? { securityRelevant: sensitive } : {}),
  });
}
