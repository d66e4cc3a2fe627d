/**
 * Shared by the "good citizen" tests (issue 11): a daemon on a fresh repo, and the checks every
 * case ends with (the repository is sound, `git status` parses).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRepo, GIT_ENV, type TempRepo } from './repo.js';
import { DaemonProcess, fastConfig } from './daemon.js';

export interface Citizen {
  repo: TempRepo;
  d: DaemonProcess;
  cfg: string;
  /** Stops the daemon and starts a new one with the same config (and optional new config text). */
  restart(config?: string): Promise<DaemonProcess>;
}

/**
 * Runs `fn` with a daemon on a fresh repo. `setup` runs before the daemon starts. The settle window
 * defaults to 1 s here: the person's `git add` right after a write must land inside it under load.
 */
export async function withCitizen(
  fn: (c: Citizen) => Promise<void>,
  opts: { config?: Record<string, unknown>; setup?: (repo: TempRepo) => Promise<void>; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  const repo = await tempRepo();
  const cfg = `${repo.root}.winnow.json`;
  const config = fastConfig({ debounce: { defaultMs: 1_000, rules: [], maxMs: 2_000, maxWaitMs: 5_000 }, ...opts.config });
  await writeFile(cfg, config);
  await opts.setup?.(repo);
  const c: Citizen = {
    repo,
    cfg,
    d: new DaemonProcess(repo.root, ['--config', cfg], opts.env),
    async restart(next?: string) {
      await c.d.stop();
      if (next !== undefined) await writeFile(cfg, next);
      c.d = new DaemonProcess(repo.root, ['--config', cfg], opts.env);
      return c.d;
    },
  };
  try {
    await c.d.ready();
    await fn(c);
    assertSound(repo);
  } finally {
    await c.d.kill();
    await repo.cleanup();
    await unlink(cfg).catch(() => undefined);
  }
}

/**
 * `git fsck --full --strict` is clean (exit 0, nothing printed; dangling objects are normal git
 * garbage and left out) and `git status` answers.
 */
export function assertSound(repo: TempRepo): void {
  const fsck = execFileSync('git', ['fsck', '--full', '--strict', '--no-progress', '--no-dangling'], {
    cwd: repo.root,
    env: GIT_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(fsck.trim(), '', 'git fsck --full --strict reports nothing');
  repo.git('status', '--porcelain=v1', '-z');
}

/** A cookie: a file whose commit proves every change written before it was judged. */
export async function barrier(c: Citizen, name = `cookie-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`): Promise<string> {
  const landed = c.d.commitOf(name);
  await writeFile(join(c.repo.root, name), 'cookie\n');
  const l = await landed;
  return String(l.sha);
}

/** Paths in HEAD's tree (NUL-safe). */
export function headTree(repo: TempRepo): string[] {
  return repo.git('ls-tree', '-r', '-z', '--name-only', 'HEAD').split('\0').filter(Boolean);
}

/** Porcelain v1 lines of `git status`, untracked included. */
export function porcelain(repo: TempRepo): string[] {
  return repo
    .git('status', '--porcelain=v1', '-z', '--untracked-files=all')
    .split('\0')
    .filter(Boolean);
}

/** Whether `line` matches a `commit waiting` log line whose sentence matches `re`. */
export const waitingMatches = (re: RegExp) => (l: { msg: string; [k: string]: unknown }) =>
  l.msg === 'commit waiting' && re.test(String(l.waiting));
