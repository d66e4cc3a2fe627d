import { open, readFile, stat, watch } from 'node:fs/promises';
import { join, resolve, relative, isAbsolute } from 'node:path';
import type { CommandSpec, CliIO } from '../types.js';
import { UsageError } from '../types.js';
import type { Decision } from '../../core/decision.js';
import { normalisePath } from '../../core/event.js';
import { decisionRecord, formatDecision } from '../format.js';
import { readState, runningDaemon } from '../daemon-info.js';
import { RUNG_LABEL, type ProcessRung } from '../../core/classify/ladder.js';
import { DIR_OPTION, workspaceDir } from '../args.js';
import { messages } from '../messages.js';
import { finalizeDecision, humanEvidence } from '../../core/classify/finalize.js';
import type { QuarantinedPath } from '../../core/classify/churn.js';
import { restoreReactions, type ReactionState } from '../../core/classify/reaction.js';
import { fileIdentity, KnownDecisions, type Known } from '../../daemon/classify/known-decisions.js';
import { nodeFs } from '../../adapters/node-fs.js';

export const command: CommandSpec = {
  name: 'filter',
  summary: 'Explain decisions: `filter test PATH...` classifies paths now; `filter debug [DIR]` streams every decision live.',
  usage: 'filter test [--dir DIR] PATH... [--json] [--config FILE]\n       winnow filter debug [DIR] [--json] [--config FILE]',
  options: { ...DIR_OPTION, json: { type: 'boolean' }, config: { type: 'string', short: 'c' } },
  optionHelp: {
    dir: 'the workspace (default: the one around the current directory); PATHs are relative to it',
    json: 'one JSON decision record per line',
    config: 'config file (default: .winnow.json at the workspace root)',
  },
  details:
    'A record: {"path","decision":"ALLOW|BLOCK","layer":1|2|3,"rule","reason"} plus evidence and\n' +
    'per-layer timings. `filter test` applies the running daemon\'s overrides (churn quarantine,\n' +
    'commit reactions, earlier blocks) with the state it last wrote, and says so when none runs.\n' +
    '`filter debug` follows the running daemon\'s decisions; with no daemon it\n' +
    'watches the workspace itself and classifies without committing, until Ctrl-C.',
  async run(args, io) {
    const [sub, ...rest] = args.positionals;
    const json = Boolean(args.values.json);
    const configPath = args.values.config as string | undefined;
    if (sub === 'test') {
      // Like `git -C DIR`: the workspace is DIR, and PATHs are relative to it.
      const dir = typeof args.values.dir === 'string' ? resolve(io.cwd, args.values.dir) : io.cwd;
      return filterTest(rest, json, configPath, { ...io, cwd: dir });
    }
    if (sub === 'debug') return filterDebug(workspaceDir(command, args, rest), json, configPath, io);
    throw new UsageError(messages.filterSubcommand(sub));
  },
};

function print(d: Decision, json: boolean, io: CliIO): void {
  io.stdout(json ? JSON.stringify(decisionRecord(d)) + '\n' : formatDecision(d));
}

async function filterTest(paths: string[], json: boolean, configPath: string | undefined, io: CliIO): Promise<number> {
  if (!paths.length) throw new UsageError(messages.filterNeedsPath());
  const { createFilter } = await import('../../index.js');
  // Like git, the workspace is the one around the current directory; paths are relative to it.
  const f = await createFilter({ cwd: io.cwd, configPath });
  try {
    const now = Date.now();
    const events = paths.map((p) => {
      const abs = resolve(io.cwd, p);
      const rel = normalisePath(f.workspace.root, abs);
      const outside = relative(f.workspace.root, abs);
      if (rel === null || outside.startsWith('..') || isAbsolute(outside)) {
        throw new UsageError(messages.outsideWorkspace(p, f.workspace.root));
      }
      return { path: rel, kind: 'update' as const, stream: 'filter', priority: 'high' as const, at: now, source: 'rescan' as const };
    });
    const decisions = await f.classifier.classify(events);
    // What the daemon would do: its overrides, with the state it last wrote.
    const daemon = await daemonOverrides(f.workspace.stateDir);
    for (let i = 0; i < events.length; i++) {
      const d = decisions[i]!;
      const e = events[i]!;
      if (!daemon) {
        print(d.decision === 'ALLOW' && d.layer > 1 ? { ...d, reason: `${d.reason}; ${messages.noDaemonOverrides()}` } : d, json, io);
        continue;
      }
      // Judged as the daemon judged the file's last write: a watcher event at its mtime.
      const id = await fileIdentity(nodeFs, f.workspace.root, e.path);
      const final = finalizeDecision(d, { path: e.path, at: id.mtimeMs ?? now, source: 'watch' }, {
        reactions: daemon.reactions,
        quarantine: (x) => (humanEvidence(x) ? null : (daemon.quarantined.find((q) => q.path === x.path) ?? null)),
        blockedBefore: () => daemon.known.blockedWrite(e.path, id.key),
      });
      print(final, json, io);
    }
    return 0;
  } finally {
    await f.close();
  }
}

/**
 * The state the running daemon's overrides use, as it last wrote it (state.json: quarantine and
 * commit reactions; decisions.json: earlier blocks); null when no daemon runs here.
 */
async function daemonOverrides(stateDir: string): Promise<{ quarantined: QuarantinedPath[]; reactions: ReactionState; known: KnownDecisions } | null> {
  if (!(await runningDaemon(stateDir))) return null;
  const st = await readState(stateDir);
  if (!st) return null;
  const known = new KnownDecisions();
  try {
    known.load(JSON.parse(await readFile(join(stateDir, 'decisions.json'), 'utf8')) as Record<string, Known>);
  } catch {
    // none written yet
  }
  return { quarantined: Array.isArray(st.quarantined) ? (st.quarantined as QuarantinedPath[]) : [], reactions: restoreReactions(st.reactions), known };
}

async function filterDebug(dir: string | undefined, json: boolean, configPath: string | undefined, io: CliIO): Promise<number> {
  const { loadWorkspace } = await import('../../index.js');
  const { workspace } = await loadWorkspace(dir, io.cwd, configPath);
  const holder = await runningDaemon(workspace.stateDir);
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  try {
    if (holder) {
      io.stderr(`winnow: ${messages.followingDaemon(holder.pid)}\n`);
      // Which evidence rung covers each autonomous process (docs/evidence.md), as of its last decision.
      const st = (await readState(workspace.stateDir)) as { evidence?: { processes?: ProcessRung[] } } | null;
      for (const p of st?.evidence?.processes ?? []) {
        io.stderr(`winnow: ${messages.autonomousRung(p.pid, p.command, RUNG_LABEL[p.rung], p.advice)}\n`);
      }
      await followLog(join(workspace.stateDir, 'winnow.log'), (d) => print(d, json, io), ac.signal);
      return 0;
    }
    const { createWinnow } = await import('../../index.js');
    const w = await createWinnow({ dir: workspace.root, cwd: io.cwd, configPath, dryRun: true, noLogFile: true });
    w.service.onDecision((d) => print(d, json, io));
    await w.service.start();
    io.stderr(`winnow: ${messages.watchingWithoutDaemon()}\n`);
    await new Promise<void>((r) => ac.signal.addEventListener('abort', () => r(), { once: true }));
    await w.close();
    return 0;
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}

/** Prints decision lines appended to the daemon's JSON log from now on. */
async function followLog(file: string, onDecision: (d: Decision) => void, signal: AbortSignal): Promise<void> {
  let pos = (await stat(file).catch(() => null))?.size ?? 0;
  let partial = '';
  const drain = async () => {
    const st = await stat(file).catch(() => null);
    if (!st) return;
    if (st.size < pos) pos = 0; // rotated
    if (st.size === pos) return;
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(st.size - pos);
      await fh.read(buf, 0, buf.length, pos);
      pos = st.size;
      const text = partial + buf.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const o = JSON.parse(line) as Decision & { msg?: string };
          if (o.msg === 'decision') onDecision(o);
        } catch {
          /* not a JSON line */
        }
      }
    } finally {
      await fh.close();
    }
  };
  try {
    for await (const _ of watch(file, { signal })) await drain();
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  }
}
