import { resolve, dirname } from 'node:path';
import type { CliIO, CommandSpec } from '../types.js';
import { UsageError } from '../types.js';
import { messages } from '../messages.js';
import { resolveWorkspace, WorkspaceError } from '../../adapters/workspace.js';
import { readState } from '../daemon-info.js';
import { loadConfig, type LoadedConfig } from '../../core/config/load.js';
import { ConfigError } from '../../core/config/schema.js';
import { compileRules, parseRules, suggestRules, type ChurnEntry } from '../../core/classify/rules.js';
import { BUILTIN_RULES_DIR, readTextFile } from '../../adapters/config-file.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';

export const command: CommandSpec = {
  name: 'rules',
  summary: 'Validate rules and config, or propose BLOCK rules for paths that churn.',
  usage: 'rules check [FILE...] [--config FILE]\n       winnow rules suggest [DIR]',
  options: { ...DIR_OPTION, config: { type: 'string' } },
  optionHelp: { dir: DIR_HELP, config: 'config file to check instead of .winnow.json at the workspace root' },
  details: [
    'check     validates the workspace config and every rule file it names (or the FILEs given:',
    '          a .json file is checked as a config, anything else as a rule file) and prints',
    '          the rule count per source. Exit 2 with the file, key and line of the first problem.',
    'suggest   reads the quarantined paths of the last run (state.json) and prints BLOCK rules',
    '          for them, ready to paste into a rule file. Review them first.',
  ].join('\n'),
  async run(args, io) {
    const [sub, ...rest] = args.positionals;
    if (sub === 'check') {
      const dir = typeof args.values.dir === 'string' ? resolve(io.cwd, args.values.dir) : io.cwd;
      return check(rest, args.values.config as string | undefined, { ...io, cwd: dir });
    }
    if (sub === 'suggest') return suggest(workspaceDir(command, args, rest), io);
    throw new UsageError(
      `${sub ? `unknown subcommand "${sub}"` : 'missing subcommand'}: use \`winnow rules check [FILE...]\` or \`winnow rules suggest [DIR]\`.`,
    );
  },
};

function summary(l: LoadedConfig): string {
  const counts = l.ruleSources.map((s) => `${s}: ${l.rules.rules.filter((r) => r.source === s).length}`);
  const n = l.rules.rules.length;
  return `${n} rule${n === 1 ? '' : 's'}${counts.length ? ` (${counts.join(', ')})` : ''}; defaultAction ${l.rules.defaultAction}`;
}

async function check(files: string[], configOpt: string | undefined, io: CliIO): Promise<number> {
  if (!files.length) {
    const ws = await resolveWorkspace(undefined, io.cwd);
    const loaded = loadConfig({
      root: ws.root,
      configPath: configOpt === undefined ? undefined : resolve(io.cwd, configOpt),
      readText: readTextFile,
      builtinRulesDir: BUILTIN_RULES_DIR,
    });
    io.stdout(`OK ${loaded.configFile ?? '(no .winnow.json: defaults)'}: ${summary(loaded)}\n`);
    return 0;
  }
  if (configOpt !== undefined) throw new UsageError(messages.filesOrConfig());
  // Every file is checked, so one run lists every broken file; the exit code says if any failed.
  let failed = 0;
  for (const f of files) {
    try {
      await checkFile(f, io);
    } catch (e) {
      if (!(e instanceof ConfigError || e instanceof UsageError)) throw e;
      io.stderr(`winnow: ${e.message}\n`);
      failed++;
    }
  }
  return failed ? 2 : 0;
}

async function checkFile(f: string, io: CliIO): Promise<void> {
  const abs = resolve(io.cwd, f);
  const text = readTextFile(abs);
  if (text === null) throw new UsageError(messages.noSuchFile(f));
  if (abs.endsWith('.json') || text.trimStart().startsWith('{')) {
    // Rule files a config names are relative to its workspace; outside one, to its folder.
    const root = await resolveWorkspace(dirname(abs), io.cwd)
      .then((w) => w.root)
      .catch((e: unknown) => {
        if (e instanceof WorkspaceError) return dirname(abs);
        throw e;
      });
    const loaded = loadConfig({ root, configPath: abs, readText: readTextFile, builtinRulesDir: BUILTIN_RULES_DIR });
    io.stdout(`OK ${f}: ${summary(loaded)}\n`);
  } else {
    const rules = parseRules(text, f);
    compileRules(rules, 'ANALYZE');
    io.stdout(`OK ${f}: ${rules.length} rule${rules.length === 1 ? '' : 's'}\n`);
  }
}

async function suggest(dir: string | undefined, io: CliIO): Promise<number> {
  const ws = await resolveWorkspace(dir, io.cwd);
  const state = await readState(ws.stateDir);
  if (!state) {
    io.stderr(`${messages.nothingToSuggest(ws.root, ws.stateDir)}\n`);
    return 0;
  }
  const raw = Array.isArray(state.quarantined) ? (state.quarantined as unknown[]) : [];
  const entries: ChurnEntry[] = raw.filter(
    (e): e is ChurnEntry => !!e && typeof e === 'object' && typeof (e as ChurnEntry).path === 'string',
  );
  // Paths the current rules already block need no new rule; a broken config just means no filter.
  let isBlocked = (_: string) => false;
  try {
    const loaded = loadConfig({ root: ws.root, readText: readTextFile, builtinRulesDir: BUILTIN_RULES_DIR });
    isBlocked = (p) => loaded.rules.match(p).action === 'BLOCK';
  } catch {
    // `winnow rules check` reports config problems; suggestions do not depend on them.
  }
  const lines = suggestRules(entries, isBlocked);
  if (!lines.length) {
    io.stderr(
      entries.length
        ? `Nothing to suggest: the ${entries.length} quarantined path${entries.length === 1 ? ' is' : 's are'} already blocked by your rules.\n`
        : 'Nothing to suggest: no path is quarantined for churning.\n',
    );
    return 0;
  }
  io.stdout(
    [
      `# Proposed by \`winnow rules suggest\` from ${entries.length} quarantined path${entries.length === 1 ? '' : 's'}.`,
      '# Review, then add them to .winnow.json "rules" or to a rule file listed in "ruleFiles".',
      ...lines,
      '',
    ].join('\n'),
  );
  return 0;
}
