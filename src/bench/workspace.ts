/**
 * The benchmark's git workspace: built from the scenario and committed as the base, its history
 * read back after the run, and what git ignores (what a commit-everything watcher would skip).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createGitRunner } from '../adapters/git.js';
import type { CommitRecord } from './metrics.js';
import type { Scenario } from './scenario.js';

export function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_AUTHOR_NAME: 'Bench Person',
    GIT_AUTHOR_EMAIL: 'person@bench.invalid',
    GIT_COMMITTER_NAME: 'Bench Person',
    GIT_COMMITTER_EMAIL: 'person@bench.invalid',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
}

/** The scenario's own git calls (base commit, reading the history back), through the git adapter's runner. */
async function git(root: string, args: string[], input?: string): Promise<string> {
  // The 100k-file base commit takes a while on a loaded machine: a bound, not a budget.
  const run = createGitRunner(root, { timeoutMs: 10 * 60_000, env: gitEnv() });
  // check-ignore refuses the literal pathspec magic the runner sets for every other call.
  const env = args[0] === 'check-ignore' ? { GIT_LITERAL_PATHSPECS: '0' } : undefined;
  return (await run(args, { readOnly: true, ...(input === undefined ? {} : { input }), ...(env ? { env } : {}) })).stdout.toString('utf8');
}

const fileText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2) + '\n');

/** Builds the workspace and commits it as the base; returns the base sha and its blobs. */
export async function setupWorkspace(s: Scenario, root: string): Promise<{ base: string; initial: Map<string, string> }> {
  await mkdir(root, { recursive: true });
  await git(root, ['init', '-q', '-b', 'main']);
  await git(root, ['config', 'user.name', 'Bench Person']);
  await git(root, ['config', 'user.email', 'person@bench.invalid']);
  await git(root, ['config', 'commit.gpgsign', 'false']);
  // The base commit of a 100k-file workspace leaves 100k loose objects, and `git gc --auto` would
  // then repack them in the background for minutes while winnow starts and is measured.
  await git(root, ['config', 'gc.auto', '0']);
  const put = async (rel: string, text: string) => {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
  };
  await put('README.md', `# bench workspace: ${s.name}\n`);
  if (s.workspace?.gitignore) await put('.gitignore', s.workspace.gitignore.join('\n') + '\n');
  for (const [rel, v] of Object.entries(s.workspace?.files ?? {})) await put(rel, fileText(v));
  for (const g of s.workspace?.generate ?? []) {
    const body = 'x'.repeat(g.bytes ?? 64);
    // A folder at a time, its files written concurrently: 100k files in seconds, not minutes.
    for (let d = 0; d * 100 < g.count; d++) {
      await mkdir(join(root, g.dir, `d${d}`), { recursive: true });
      const writes: Promise<void>[] = [];
      for (let i = d * 100; i < Math.min(g.count, (d + 1) * 100); i++) writes.push(writeFile(join(root, g.dir, `d${d}`, `f${i}.txt`), `${i} ${body}\n`));
      await Promise.all(writes);
    }
  }
  await git(root, ['add', '-A']);
  await git(root, ['commit', '-q', '--no-verify', '-m', 'bench: base workspace']);
  const base = (await git(root, ['rev-parse', 'HEAD'])).trim();
  const initial = new Map<string, string>();
  for (const rec of (await git(root, ['ls-tree', '-r', '-z', base])).split('\0')) {
    const m = /^\d+ \w+ ([0-9a-f]+)\t(.*)$/s.exec(rec);
    if (m) initial.set(m[2]!, m[1]!);
  }
  return { base, initial };
}

/** Every commit after `base`, with its paths' new blobs (null = deleted). */
export async function readHistory(root: string, base: string, atMsBySha: Map<string, number>, notes: string[]): Promise<CommitRecord[]> {
  const shas = (await git(root, ['rev-list', '--reverse', `${base}..HEAD`])).split('\n').filter(Boolean);
  const out: CommitRecord[] = [];
  let fallback = 0;
  for (const sha of shas) {
    const raw = (await git(root, ['diff-tree', '-r', '-z', '--no-renames', '--no-commit-id', '--root', sha])).split('\0');
    const entries: CommitRecord['entries'] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const meta = raw[i]!.split(' ');
      const path = raw[i + 1]!;
      if (!meta[0]?.startsWith(':')) continue;
      entries.push({ path, blob: meta[4]?.startsWith('D') ? null : meta[3]! });
    }
    let atMs = atMsBySha.get(sha) ?? [...atMsBySha].find(([k]) => sha.startsWith(k) || k.startsWith(sha))?.[1];
    if (atMs === undefined) {
      // git's own date has 1 s resolution: only a fallback when the log line is missing.
      atMs = Number((await git(root, ['log', '-1', '--format=%ct', sha])).trim()) * 1000;
      fallback++;
    }
    out.push({ sha, atMs, entries });
  }
  if (fallback) notes.push(`${fallback} commit(s) had no "commit" log line; their time is git's 1 s commit date.`);
  return out;
}

/** Of `paths`, those git ignores (what a commit-everything watcher would not add). */
export async function ignoredPaths(root: string, paths: string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  try {
    const out = await git(root, ['check-ignore', '-z', '--stdin'], paths.join('\0') + '\0');
    return new Set(out.split('\0').filter(Boolean));
  } catch (e) {
    // Exit 1: none of them is ignored.
    if ((e as { code?: number }).code === 1) return new Set();
    throw e;
  }
}
