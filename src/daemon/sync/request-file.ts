/**
 * How `winnow sync` talks to a running daemon: it writes `<state>/sync-request`; the daemon
 * (watching its state dir) runs the sync and answers in `<state>/sync-result.json`.
 */
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { Syncer } from './syncer.js';

const REQUEST_FILE = 'sync-request';
const RESULT_FILE = 'sync-result.json';

export interface SyncRequestFile {
  reason: string;
  force: boolean;
  /** Epoch ms; the result file echoes it so the CLI knows the answer is to its request. */
  at: number;
}

export interface SyncResultFile {
  requestAt: number;
  at: number;
  ok: boolean;
  message: string;
}

export function syncRequestPath(stateDir: string): string {
  return join(stateDir, REQUEST_FILE);
}

export function syncResultPath(stateDir: string): string {
  return join(stateDir, RESULT_FILE);
}

export async function writeSyncRequest(stateDir: string, r: SyncRequestFile): Promise<void> {
  await writeFileAtomic(syncRequestPath(stateDir), JSON.stringify(r) + '\n');
}

/** The waiting request, or null (absent or unreadable). */
export async function readSyncRequest(stateDir: string): Promise<SyncRequestFile | null> {
  try {
    const r = JSON.parse(await readFile(syncRequestPath(stateDir), 'utf8')) as Partial<SyncRequestFile>;
    return { reason: typeof r.reason === 'string' ? r.reason : 'winnow sync', force: Boolean(r.force), at: typeof r.at === 'number' ? r.at : 0 };
  } catch {
    return null;
  }
}

export async function clearSyncRequest(stateDir: string): Promise<void> {
  await unlink(syncRequestPath(stateDir)).catch(() => undefined);
}

export async function readSyncResult(stateDir: string): Promise<SyncResultFile | null> {
  try {
    return JSON.parse(await readFile(syncResultPath(stateDir), 'utf8')) as SyncResultFile;
  } catch {
    return null;
  }
}

/**
 * The daemon's side of `winnow sync`: picks up the request file (if any), clears it, runs it
 * at manual priority and writes the result file. Call it when `<stateDir>/sync-request` appears.
 */
export async function serveSyncRequest(syncer: Syncer, stateDir: string, now: () => number): Promise<boolean> {
  const r = await readSyncRequest(stateDir);
  if (!r) return false;
  await clearSyncRequest(stateDir);
  const res = await syncer.request({ reason: r.reason, priority: 'manual', force: r.force });
  const out: SyncResultFile = { requestAt: r.at, at: now(), ok: res.ok, message: res.message };
  await writeFileAtomic(syncResultPath(stateDir), JSON.stringify(out) + '\n');
  return true;
}
