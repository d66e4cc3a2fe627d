import type { CommandSpec } from '../types.js';
import { RUNG_LABEL, type ProcessRung } from '../../core/classify/ladder.js';
import { resolveWorkspace } from '../../adapters/workspace.js';
import { runningDaemon, readState } from '../daemon-info.js';
import { readPause } from '../../daemon/lifecycle/pause.js';
import { DEFAULTS } from '../../core/config/defaults.js';
import { ago } from '../format.js';
import type { SyncStatus } from '../../daemon/sync/syncer.js';
import { createGitRunner, parsePorcelainZ } from '../../adapters/git.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';
import { messages } from '../messages.js';
import { stat } from 'node:fs/promises';

interface StateView {
  pending?: { path: string; dueAt: string | null }[];
  waiting?: string | null;
  lastCommits?: { sha: string; at: string; paths: string[] }[];
  rateLimit?: { maxPerHour: number; maxPerDay: number; hourTokens: number; today: number; nextAt: number | string | null } | null;
  breaker?: { open: boolean; until: number | string | null; failures: number; lastError: string | null } | null;
  decisions?: { ALLOW: number; BLOCK: number; byLayer: Record<string, number> };
  evidence?: Record<string, unknown>;
  quarantined?: { path: string; events: number; periodMs: number }[];
  held?: { path: string; reason: string }[];
  timingOnly?: { path: string; at: string; reason: string }[];
  watcher?: { mode: string; reason: string | null; unwatched?: number };
  sync?: unknown;
  idle?: boolean;
  startedAt?: string;
  configFile?: string | null;
  configChanged?: { file: string; changedAt: string } | null;
}

export const command: CommandSpec = {
  name: 'status',
  summary: 'Is winnow running; what is pending and when it commits; last commits, rate limit, breaker, evidence modes.',
  usage: 'status [DIR] [--json] [--all]',
  options: { ...DIR_OPTION, json: { type: 'boolean' }, all: { type: 'boolean' } },
  optionHelp: {
    dir: DIR_HELP,
    json: 'print the state object (docs/internals.md) with "running"',
    all: 'list every workspace winnow runs on (the registry in ~/.config/winnow)',
  },
  async run(args, io) {
    if (args.values.all) {
      const { list } = await import('../../daemon/lifecycle/registry.js');
      const all = await list();
      if (args.values.json) io.stdout(JSON.stringify(all) + '\n');
      else if (!all.length) io.stdout('no workspaces registered\n');
      else for (const w of all) io.stdout(`${w.running ? 'running' : 'stopped'}  pid ${w.pid}  ${w.root}\n`);
      return 0;
    }
    const ws = await resolveWorkspace(workspaceDir(command, args, args.positionals), io.cwd);
    const holder = await runningDaemon(ws.stateDir);
    const state = ((await readState(ws.stateDir)) ?? {}) as StateView & Record<string, unknown>;
    if (state.timingOnly?.length) state.timingOnly = await stillChanged(ws.root, state.timingOnly);
    const now = Date.now();
    const pause = await readPause(ws.stateDir, now, DEFAULTS.pause.maxMs).catch(() => null);
    const out = {
      ...state,
      workspace: ws.root,
      running: Boolean(holder),
      pid: holder?.pid ?? null,
      pause: holder ? (state.pause ?? null) : pause ? { pid: pause.pid, reason: pause.reason, expiresAt: new Date(pause.expiresAt).toISOString() } : null,
    };
    // The daemon reads its config once; an edit (or a pull) after it started waits for a restart.
    const configChanged = holder ? await changedSince(state.configFile ?? null, state.startedAt) : null;
    Object.assign(out, { configChanged });
    if (args.values.json) {
      io.stdout(JSON.stringify(out) + '\n');
      return 0;
    }
    // The pause file is the truth now; state.json may not have caught up with a `winnow pause` yet.
    const held = pause ? `paused until ${new Date(pause.expiresAt).toISOString()}` : null;
    io.stdout(human(out, now, held));
    return 0;
  },
};

/**
 * When a pending path commits, as `status` says it: its settle window's end, unless commits wait
 * (a pause, a rate limit, a merge in progress…), when the window's end is not a commit time
 * (issue 11 case 21: "commits in 772ms" while paused).
 */
export function pendingWhen(dueAt: string | null, now: number, waiting: string | null): string {
  if (waiting) {
    const settles = dueAt && Date.parse(dueAt) > now ? `settles ${ago(dueAt, now)}, then ` : '';
    return `${settles}waits (${waiting})`;
  }
  return dueAt ? `commits ${ago(dueAt, now)}` : 'queued for the next commit';
}

function human(s: StateView & { workspace: string; running: boolean; pid: number | null; pause: unknown }, now: number, paused: string | null = null): string {
  const L: string[] = [];
  L.push(`workspace  ${s.workspace}`);
  L.push(`running    ${s.running ? `yes (pid ${s.pid})` : 'no'}`);
  if (s.watcher && s.watcher.mode !== 'live') L.push(`watcher    ${s.watcher.mode}: ${s.watcher.reason ?? ''}`);
  if (s.watcher?.unwatched) L.push(`unwatched  ${s.watcher.unwatched} folder${s.watcher.unwatched === 1 ? '' : 's'} git ignores as a whole (their changes are never committed)`);
  if (s.configChanged) L.push(`config     ${messages.configNotApplied(s.configFile ?? s.configChanged.file, ago(s.configChanged.changedAt, now))}`);
  if (s.waiting) L.push(`waiting    ${s.waiting}`);
  else if (paused) L.push(`waiting    ${paused}`);
  const pending = s.pending ?? [];
  L.push(`pending    ${pending.length ? pending.length : 'nothing'}`);
  const waits = paused ?? (s.waiting ? 'see waiting above' : null);
  for (const p of pending.slice(0, 20)) L.push(`  ${p.path}  ${pendingWhen(p.dueAt, now, waits)}`);
  if (pending.length > 20) L.push(`  … and ${pending.length - 20} more`);
  const commits = s.lastCommits ?? [];
  L.push(`commits    ${commits.length ? '' : 'none yet'}`);
  for (const c of commits.slice(0, 5)) L.push(`  ${c.sha.slice(0, 10)}  ${ago(c.at, now)}  ${c.paths.slice(0, 3).join(', ')}${c.paths.length > 3 ? ` (+${c.paths.length - 3} more)` : ''}`);
  if (s.rateLimit) {
    const r = s.rateLimit;
    const next = r.nextAt ? `; next commit possible ${ago(new Date(r.nextAt).toISOString(), now)}` : '';
    L.push(`rate limit ${r.today}/${r.maxPerDay} today, ${Math.floor(r.hourTokens)}/${r.maxPerHour} left this hour${next}`);
  }
  if (s.breaker) {
    const b = s.breaker;
    L.push(`breaker    ${b.open ? `open until ${new Date(b.until ?? 0).toISOString()} after ${b.failures} failures: ${b.lastError ?? ''}` : `closed${b.failures ? ` (${b.failures} recent failures)` : ''}`}`);
  }
  if (s.decisions) L.push(`decisions  ${s.decisions.ALLOW} allowed, ${s.decisions.BLOCK} blocked (layer 1: ${s.decisions.byLayer['1'] ?? 0}, layer 2: ${s.decisions.byLayer['2'] ?? 0}, layer 3: ${s.decisions.byLayer['3'] ?? 0})`);
  if (s.evidence) {
    const { processes, ...modes } = s.evidence as { processes?: ProcessRung[] } & Record<string, unknown>;
    L.push(`evidence   ${evidenceLine(modes)}`);
    // Per autonomous process: which rung of the evidence ladder covers it, and how to move it up.
    for (const p of processes ?? []) {
      const cmd = p.command.length > 50 ? p.command.slice(0, 47) + '…' : p.command;
      L.push(`  ${String(p.pid).padStart(7)} ${cmd}: ${RUNG_LABEL[p.rung]}${p.advice ? ` — ${p.advice}` : ''}`);
    }
  }
  for (const q of s.quarantined ?? []) L.push(`quarantined ${q.path}: changed ${q.events} times every ~${Math.round(q.periodMs / 1000)}s with no human evidence (see \`winnow rules suggest\`)`);
  for (const h of s.held ?? []) L.push(`held       ${h.path}: ${h.reason}`);
  const doubt = s.timingOnly ?? [];
  if (doubt.length) {
    L.push(`timing only ${doubt.length} change${doubt.length > 1 ? 's' : ''} held back on timing evidence alone (an agent wrote around the same time; no writer is known). If one is yours, commit it yourself (git commit PATH) or give it an ALLOW rule:`);
    for (const x of doubt.slice(0, 10)) L.push(`  ${x.path}  ${ago(x.at, now)}`);
    if (doubt.length > 10) L.push(`  … and ${doubt.length - 10} more (--json lists them)`);
  }
  if (s.sync) {
    const y = s.sync as SyncStatus;
    const last = y.lastSync
      ? `${y.lastSync.ok ? 'ok' : 'failed'} ${ago(new Date(y.lastSync.at).toISOString(), now)} (${y.lastSync.reason})${y.lastSync.error ? `: ${y.lastSync.error}` : ''}`
      : 'never';
    L.push(`sync       last ${last}; next ${y.nextAt ? ago(new Date(y.nextAt).toISOString(), now) : 'after the next commit'}; ${y.ahead} to push, ${y.behind} to pull`);
    if (y.breaker.open) L.push(`           breaker open until ${new Date(y.breaker.until ?? 0).toISOString()} after ${y.breaker.failures} failures`);
    if (y.stopped) L.push(`           stopped: ${y.stopped}`);
    for (const c of y.conflicts) L.push(`           conflict: ${c}`);
  }
  return L.join('\n') + '\n';
}

/** The config file's change time when it is later than the daemon's start, else null. */
async function changedSince(file: string | null, startedAt: string | undefined): Promise<{ file: string; changedAt: string } | null> {
  if (!file || !startedAt) return null;
  try {
    const st = await stat(file);
    return st.mtimeMs > Date.parse(startedAt) ? { file, changedAt: new Date(st.mtimeMs).toISOString() } : null;
  } catch {
    return null;
  }
}

/**
 * The timing-only paths that still differ from HEAD (changed or untracked): one the person has
 * since committed by hand, or reverted, is no longer held back. If git cannot answer, all stay.
 */
async function stillChanged<T extends { path: string }>(root: string, list: T[]): Promise<T[]> {
  const git = createGitRunner(root, { timeoutMs: 10_000 });
  try {
    const r = await git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--', ...list.map((x) => x.path)], { readOnly: true });
    const changed = new Set(parsePorcelainZ(r.stdout.toString('utf8')).map((e) => e.path));
    return list.filter((x) => changed.has(x.path));
  } catch {
    return list;
  }
}

/** The evidence modes in words: `fanotify unavailable (needs root …); tracing active; …`. */
export function evidenceLine(m: Record<string, unknown>): string {
  const yes = (v: unknown) => (v ? 'yes' : 'no');
  const parts = [`fanotify ${String(m.fanotify)}${m.fanotifyReason ? ` (${String(m.fanotifyReason)})` : ''}`];
  const tr = m.trace as { mode?: string; reason?: string; attach?: string } | undefined;
  if (tr && typeof tr === 'object') parts.push(`tracing ${tr.mode ?? '?'}${tr.reason ? ` (${tr.reason})` : tr.attach ? ` (cannot attach: ${tr.attach})` : ''}`);
  if (m.lineage !== undefined) parts.push(`lineage ${m.lineage ? 'on' : 'off'}`);
  parts.push(`open handles ${yes(m.openHandle)}`, `write counters ${yes(m.temporal)}`, `process table ${yes(m.processTable)}`);
  return parts.join('; ');
}
