/**
 * The benchmark's players: autonomous writers and a person's editor as real child processes
 * (bench/players/*.mjs), each printing its ground truth as JSON lines on stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TruthRecord } from './metrics.js';

export const PLAYERS_DIR = join(fileURLToPath(new URL('../../', import.meta.url)), 'bench', 'players');

export interface Player {
  name: string;
  child: ChildProcess;
  truth: TruthRecord[];
  stderr: string[];
  done: Promise<number | null>;
}

export function startPlayer(name: string, script: string, planFile: string, detached: boolean, cwd: string, exec?: { bin: string; root: string; env: NodeJS.ProcessEnv }): Player {
  const argv = [join(PLAYERS_DIR, script), planFile];
  // Under `winnow exec` the player is its child (and strace's grandchild): same command line.
  const child = spawn(process.execPath, exec ? [exec.bin, 'exec', '--dir', exec.root, '--', process.execPath, ...argv] : argv, {
    cwd,
    ...(exec ? { env: exec.env } : {}),
    // The person's editor runs in a session of its own: no ancestry shared with the agents.
    detached,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: Player = { name, child, truth: [], stderr: [], done: null as unknown as Promise<number | null> };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      p.truth.push(JSON.parse(line) as TruthRecord);
    } catch {
      // not a ground-truth line
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => p.stderr.push(line));
  p.done = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  return p;
}
