import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CommandSpec, CliIO } from '../types.js';
import { RuntimeError, UsageError } from '../types.js';
import { messages } from '../messages.js';
import { resolveWorkspace } from '../../adapters/workspace.js';
import { loadWorkspaceConfig } from '../../adapters/config-file.js';
import { createSnapshot, listSnapshots, restoreSnapshot, snapshotsDir, SnapshotError, type SnapshotEnv } from '../../daemon/sync/snapshots.js';
import { createGitRunner } from '../../adapters/git.js';
import { withLock } from '../../daemon/lifecycle/lock-manager.js';
import { LockTimeoutError } from '../../daemon/lifecycle/lock-manager.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';

export const command: CommandSpec = {
  name: 'snapshot',
  summary: 'list, create or restore sync snapshots (bundle + diff + meta)',
  usage: 'snapshot list [DIR] | create [DIR] [--reason TEXT] | restore ID [DIR]   [--json]',
  options: {
    ...DIR_OPTION,
    reason: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    dir: DIR_HELP,
    reason: 'for create: recorded in the snapshot meta',
    json: 'machine-readable output on stdout',
  },
  details:
    'Snapshots live in <git-dir>/winnow/snapshots/<id>/. `restore ID` makes the work tree\'s content what it was\n' +
    'then (HEAD, branches and the index stay); it takes a snapshot first, so a restore can itself be undone.',
  async run(args, io) {
    const [sub, ...rest] = args.positionals;
    // `restore ID [DIR]`: the ID comes first; the others take only DIR.
    const ws = await resolveWorkspace(workspaceDir(command, args, sub === 'restore' ? rest.slice(1) : rest), io.cwd);
    // A snapshot leaves out what a commit would hold back (secrets, files over commit.maxFileBytes).
    const { config } = loadWorkspaceConfig(ws.root);
    const guard = { maxFileBytes: config.commit.maxFileBytes, secrets: config.secrets };
    const env: SnapshotEnv = { root: ws.root, gitDir: ws.gitDir, stateDir: ws.stateDir, git: createGitRunner(ws.root, { timeoutMs: 120_000 }), hostname: hostname(), guard };
    const json = Boolean(args.values.json);
    try {
      switch (sub) {
        case 'list':
          return list(io, await listSnapshots(ws.stateDir), json, ws.stateDir);
        case 'create': {
          const m = await createSnapshot(env, (args.values.reason as string | undefined) ?? 'winnow snapshot create', Date.now());
          out(io, json, m, `created ${m.id} (${m.dirtyCount} uncommitted path${m.dirtyCount === 1 ? '' : 's'}) in ${join(snapshotsDir(ws.stateDir), m.id)}`);
          return 0;
        }
        case 'restore': {
          const id = rest[0];
          if (!id) throw new UsageError(messages.snapshotNeedsId());
          // Hold the sync lock so that no sync moves the branch under the restore.
          const r = await withLock(join(ws.stateDir, 'sync.lock'), { timeoutMs: 30_000, extra: { reason: `snapshot restore ${id}` } }, () =>
            restoreSnapshot(env, id, Date.now()),
          );
          out(
            io,
            json,
            { restored: r.restored.id, before: r.before.id, written: r.written, removed: r.removed },
            `restored ${r.restored.id}: ${r.written.length} file(s) written, ${r.removed.length} removed. ` +
              `The state before is snapshot ${r.before.id} (\`winnow snapshot restore ${r.before.id}\` undoes this). ` +
              `HEAD and the index were not touched${r.restored.head ? `; the snapshot's HEAD was ${r.restored.head.slice(0, 12)} (its history is in the bundle)` : ''}.`,
          );
          return 0;
        }
        default:
          throw new UsageError(messages.snapshotSubcommand(sub));
      }
    } catch (e) {
      if (e instanceof SnapshotError) throw new RuntimeError(e.message);
      if (e instanceof LockTimeoutError) throw new RuntimeError(messages.syncRunning(e.message));
      throw e;
    }
  },
};

function out(io: CliIO, json: boolean, data: unknown, text: string): void {
  if (json) io.stdout(JSON.stringify(data) + '\n');
  else io.stdout(text + '\n');
}

function list(io: CliIO, snaps: Awaited<ReturnType<typeof listSnapshots>>, json: boolean, stateDir: string): number {
  if (json) {
    for (const s of snaps) io.stdout(JSON.stringify(s) + '\n');
    return 0;
  }
  if (!snaps.length) {
    io.stdout(`${messages.noSnapshots(snapshotsDir(stateDir))}\n`);
    return 0;
  }
  for (const s of snaps) {
    const size = (s.files.bundle.bytes + s.files.diff.bytes) / 1024;
    io.stdout(`${s.id}  ${s.createdAt}  ${s.head ? s.head.slice(0, 10) : '(unborn)'}  ${String(s.dirtyCount).padStart(4)} uncommitted  ${size.toFixed(0)} KiB  ${s.reason}\n`);
  }
  return 0;
}
