import { appendFile, mkdir, stat, rename } from 'node:fs/promises';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import type { CliIO, CommandSpec } from '../types.js';
import { messages } from '../messages.js';
import { resolveWorkspace } from '../../adapters/workspace.js';
import { DECLARED_FILE, traceDir } from '../../adapters/strace.js';

/** The declarations file is rotated past this size (the daemon has read it long before). */
const ROTATE_BYTES = 1 << 20;

export interface HookInput {
  /** Absolute or relative paths the agent writes. */
  paths: string[];
  /** Directory relative paths are resolved against. */
  cwd: string | null;
  source: string;
}

/**
 * Paths from a Claude Code hook's JSON input (PreToolUse / PostToolUse: `tool_input.file_path`,
 * `tool_input.notebook_path`, `tool_input.edits[].file_path`), or from plain lines.
 *
 * @example
 * parseHookInput('{"hook_event_name":"PreToolUse","tool_name":"Write","cwd":"/w","tool_input":{"file_path":"/w/a.md"}}')
 * // → {paths: ['/w/a.md'], cwd: '/w', source: 'winnow hook (PreToolUse Write)'}
 */
export function parseHookInput(text: string): HookInput {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(trimmed) as Record<string, unknown>;
    } catch (e) {
      throw new Error(messages.hookNotJson((e as Error).message));
    }
    const ti = (j.tool_input ?? {}) as Record<string, unknown>;
    const paths: string[] = [];
    const add = (v: unknown) => {
      if (typeof v === 'string' && v) paths.push(v);
    };
    add(ti.file_path);
    add(ti.notebook_path);
    add(ti.path && (j.tool_name === 'Write' || j.tool_name === 'Edit') ? ti.path : undefined);
    if (Array.isArray(ti.edits)) for (const e of ti.edits) add((e as Record<string, unknown>)?.file_path);
    const event = typeof j.hook_event_name === 'string' ? j.hook_event_name : 'hook';
    const tool = typeof j.tool_name === 'string' ? ` ${j.tool_name}` : '';
    return { paths: [...new Set(paths)], cwd: typeof j.cwd === 'string' ? j.cwd : null, source: `winnow hook (${event}${tool})` };
  }
  return { paths: trimmed.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0), cwd: null, source: 'winnow hook' };
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const command: CommandSpec = {
  name: 'hook',
  summary: "Declare paths an agent writes, so that winnow never commits them as a person's change.",
  usage: 'hook [--dir DIR] < paths-or-hook-json',
  options: {
    dir: { type: 'string' },
  },
  optionHelp: {
    dir: 'the workspace (default: the hook JSON\'s cwd, $CLAUDE_PROJECT_DIR, or the current directory)',
  },
  details: [
    "Reads paths, one per line, or a Claude Code hook's JSON input (PreToolUse or PostToolUse: tool_input.file_path,",
    'tool_input.notebook_path, tool_input.edits[].file_path) on stdin, and declares them to the daemon as',
    'autonomous writes (evidence rung 3), through <git-dir>/winnow/trace/declared.jsonl. Paths outside the',
    'workspace are ignored. Wire it in .claude/settings.json (see the README, "Evidence ladder"). It exits 0',
    'on success and 1 on failure, never 2 (which would make Claude Code block the tool call).',
  ].join('\n'),
  async run(args, io: CliIO) {
    const text = await readStdin();
    let input: HookInput;
    try {
      input = parseHookInput(text);
    } catch (e) {
      io.stderr(`winnow hook: ${(e as Error).message}\n`);
      return 1;
    }
    if (!input.paths.length) return 0;
    const dir = (args.values.dir as string | undefined) ?? input.cwd ?? io.env.CLAUDE_PROJECT_DIR ?? undefined;
    let ws;
    try {
      ws = await resolveWorkspace(dir, io.cwd);
    } catch (e) {
      io.stderr(`winnow hook: ${(e as Error).message}\n`);
      return 1;
    }
    const base = input.cwd ?? (dir ? resolvePath(io.cwd, dir) : io.cwd);
    const rootSlash = ws.root.endsWith('/') ? ws.root : ws.root + '/';
    const abs = input.paths.map((p) => (isAbsolute(p) ? p : resolvePath(base, p))).filter((p) => p.startsWith(rootSlash));
    if (!abs.length) return 0;
    const d = traceDir(ws.stateDir);
    await mkdir(d, { recursive: true, mode: 0o700 });
    const file = join(d, DECLARED_FILE);
    const size = (await stat(file).catch(() => null))?.size ?? 0;
    if (size > ROTATE_BYTES) await rename(file, `${file}.1`).catch(() => undefined);
    const rec = { pid: process.ppid, at: Date.now(), call: 'declared', source: input.source, paths: abs };
    // One small O_APPEND write per call: concurrent hooks never interleave within a line.
    await appendFile(file, JSON.stringify(rec) + '\n', { mode: 0o600 });
    return 0;
  },
};
