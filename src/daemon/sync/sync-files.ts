/**
 * The syncer's files in the state directory: `sync-state.json` (last sync, breaker, stopped on a
 * conflict; read on start, rewritten atomically after each attempt) and the `sync.log` audit
 * (JSON lines, rotated at 1 MB).
 */
import { appendFile, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BreakerState } from '../../core/retry.js';
import type { Logger } from '../../ports/index.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { SyncStatus } from './syncer.js';

export interface PersistedState {
  version: 1;
  seq: number;
  lastSync: SyncStatus['lastSync'];
  lastAttemptAt: number | null;
  breaker: BreakerState;
  stopped: { reason: string; files: string[]; remote: string | null } | null;
  ahead: number;
  behind: number;
}

const STATE_FILE = 'sync-state.json';
const AUDIT_FILE = 'sync.log';
const AUDIT_ROTATE_BYTES = 1024 * 1024;

/** The state a previous run left, or null (none, unreadable, another version). */
export async function loadState(stateDir: string): Promise<Partial<PersistedState> | null> {
  try {
    const s = JSON.parse(await readFile(join(stateDir, STATE_FILE), 'utf8')) as PersistedState;
    return s.version === 1 ? s : null;
  } catch {
    return null;
  }
}

/** Appends one line to the audit log; a failure is logged, never thrown. */
export async function audit(stateDir: string, logger: Logger, entry: Record<string, unknown>): Promise<void> {
  const file = join(stateDir, AUDIT_FILE);
  try {
    const st = await stat(file).catch(() => null);
    if (st && st.size > AUDIT_ROTATE_BYTES) await rename(file, `${file}.1`);
    await appendFile(file, JSON.stringify(entry) + '\n', { mode: 0o600 });
  } catch (e) {
    logger.log('warn', 'sync audit log not written', { error: (e as Error).message });
  }
}

/** Writes the state atomically (temp file + rename, mode 0600). */
export async function saveState(stateDir: string, state: PersistedState): Promise<void> {
  await writeFileAtomic(join(stateDir, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
}
