/**
 * Registrations by `winnow exec`: `<stateDir>/exec/<pid>` holds `{pid, startTime, cmd}` (mode
 * 0600). The classifier reads them as `execRoots`: each registered process tree is autonomous.
 * A registration whose process is gone, or whose PID now belongs to another process (start time
 * differs), is stale: ignored and removed by the reader.
 */
import { readdir, readFile, unlink, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { isAlive, processStartTime } from '../lifecycle/lock.js';

export interface ExecRegistration {
  pid: number;
  /** `/proc/PID/stat` field 22 (clock ticks since boot), or null off Linux. */
  startTime: string | null;
  cmd: string[];
  registeredAt: string;
  /**
   * PID of the strace that runs CMD (`autonomous.trace`), whose writes go to
   * `<stateDir>/trace/<pid>.jsonl`; absent when CMD runs untraced (declared only).
   */
  tracer?: number;
}

export function execDir(stateDir: string): string {
  return join(stateDir, 'exec');
}

export async function registerExec(stateDir: string, pid: number, cmd: string[], now = Date.now(), tracer?: number): Promise<string> {
  const dir = execDir(stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, String(pid));
  const reg: ExecRegistration = { pid, startTime: processStartTime(pid), cmd, registeredAt: new Date(now).toISOString(), ...(tracer !== undefined ? { tracer } : {}) };
  await writeFileAtomic(file, JSON.stringify(reg) + '\n');
  return file;
}

export async function unregisterExec(stateDir: string, pid: number): Promise<void> {
  await unlink(join(execDir(stateDir), String(pid))).catch(() => undefined);
}

function isLive(reg: ExecRegistration): boolean {
  if (!isAlive(reg.pid)) return false;
  if (reg.startTime === null) return true;
  const st = processStartTime(reg.pid);
  return st === null || st === reg.startTime;
}

/** Live registrations; stale ones are deleted on the way. */
export async function readExecRegistry(stateDir: string): Promise<ExecRegistration[]> {
  const dir = execDir(stateDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: ExecRegistration[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue; // temp files of an atomic write in progress
    const file = join(dir, name);
    let reg: ExecRegistration | null = null;
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as ExecRegistration;
      if (typeof parsed.pid === 'number' && String(parsed.pid) === name) reg = parsed;
    } catch {
      reg = null;
    }
    if (reg && isLive(reg)) out.push(reg);
    else if (reg || !isAlive(Number(name))) await unlink(file).catch(() => undefined);
  }
  return out;
}
