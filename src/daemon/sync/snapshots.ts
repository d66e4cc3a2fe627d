/**
 * Sync snapshots: `<state>/snapshots/<id>/` holding
 * - `repo.bundle`: a full `git bundle` of the branch and of a commit of the whole work tree
 *   (tracked changes and untracked, not ignored files), so the snapshot restores on its own;
 * - `worktree.diff`: `git diff --binary` from HEAD to that work tree, for people to read or apply;
 * - `meta.json`: what was snapshotted, with sha256 of both files.
 * The work tree commit is made through a private index (a copy of the real one, so stat data
 * keeps it fast); the person's index, branches and stash are never touched.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, unlink, lstat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { compactDate } from '../../core/sync/conflict.js';
import type { GitRunner } from '../../ports/index.js';
import { gitText, objectFormat } from '../git-calls.js';
import { emptyTreeOid } from '../../core/git/object-format.js';
import { DEFAULTS } from '../../core/config/defaults.js';
import { scanForSecrets } from '../../core/commit/secrets.js';
import { scanFile } from '../commit/scan.js';

export interface SnapshotFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface SnapshotMeta {
  version: 1;
  id: string;
  createdAt: string;
  reason: string;
  host: string;
  /** HEAD commit at the time, or null on an unborn branch. */
  head: string | null;
  branch: string | null;
  /** Commit (in the bundle, ref `refs/winnow/snapshot/<id>`) whose tree is the whole work tree. */
  worktreeCommit: string;
  /** Paths that differed from HEAD (capped at 1000; `dirtyCount` is the full number). */
  dirty: string[];
  dirtyCount: number;
  /** Changed files not in the snapshot, and why (a secret, too large); capped at 1000. */
  leftOut?: { path: string; reason: string }[];
  files: { bundle: SnapshotFile; diff: SnapshotFile };
}

export interface SnapshotEnv {
  root: string;
  gitDir: string;
  stateDir: string;
  git: GitRunner;
  hostname: string;
  /**
   * What a snapshot leaves out (issue 11 case 20): files the secret guard holds and files larger
   * than `maxFileBytes`, as commits do. Default: the config defaults.
   */
  guard?: SnapshotGuard;
}

export interface SnapshotGuard {
  maxFileBytes: number;
  secrets: { enabled: boolean; allow: readonly string[] };
}

/** A snapshot that cannot be found or does not verify: the message says which and why. */
export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

const IDENTITY = {
  GIT_AUTHOR_NAME: 'winnow',
  GIT_AUTHOR_EMAIL: 'winnow@localhost',
  GIT_COMMITTER_NAME: 'winnow',
  GIT_COMMITTER_EMAIL: 'winnow@localhost',
};

export function snapshotsDir(stateDir: string): string {
  return join(stateDir, 'snapshots');
}

async function sha256File(file: string): Promise<SnapshotFile> {
  const buf = await readFile(file);
  return { name: file.slice(file.lastIndexOf(sep) + 1), bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
}

async function headInfo(env: SnapshotEnv): Promise<{ head: string | null; branch: string | null }> {
  const h = await env.git(['rev-parse', '--verify', '-q', 'HEAD'], { allowFail: true, env: { GIT_OPTIONAL_LOCKS: '0' } });
  const b = await env.git(['symbolic-ref', '-q', '--short', 'HEAD'], { allowFail: true });
  return { head: h.code === 0 ? h.stdout.toString().trim() : null, branch: b.code === 0 ? b.stdout.toString().trim() : null };
}

/**
 * Commits the work tree (tracked and untracked, not ignored) as a dangling commit whose parent is
 * HEAD, through a private index. Changed files the guard holds (a secret, a file larger than
 * `maxFileBytes`) keep their index version: they never reach an object or a bundle. `odb` is the
 * environment naming where new objects go. Returns its id and what was left out.
 */
export async function commitWorktree(
  env: SnapshotEnv,
  head: string | null,
  message: string,
  odb: Record<string, string> = {},
): Promise<{ commit: string; leftOut: { path: string; reason: string }[] }> {
  const tmpIndex = join(env.stateDir, `snapshot-index.${process.pid}.${Date.now()}`);
  await mkdir(env.stateDir, { recursive: true, mode: 0o700 });
  try {
    const real = join(env.gitDir, 'index');
    const hasIndex = await lstat(real).then(() => true, () => false);
    if (hasIndex) await copyFile(real, tmpIndex);
    const idx = { GIT_INDEX_FILE: tmpIndex, ...odb };
    if (!hasIndex && head) await env.git(['read-tree', head], { env: idx });
    // Modified, deleted and untracked (not ignored) files: what `add -A` would take.
    const listed = (await env.git(['ls-files', '-z', '-m', '-d', '-o', '--exclude-standard'], { env: idx })).stdout.toString('utf8').split('\0').filter(Boolean);
    const { take, leftOut } = await guardPaths(env, [...new Set(listed)]);
    if (take.length) {
      await env.git(['add', '-A', '--pathspec-from-file=-', '--pathspec-file-nul'], { env: { ...idx, GIT_LITERAL_PATHSPECS: '1' }, input: take.join('\0') + '\0' });
    }
    const tree = await gitText(env.git, ['write-tree'], { env: idx });
    const commit = await gitText(env.git, ['commit-tree', tree, ...(head ? ['-p', head] : []), '-m', message], { env: { ...IDENTITY, ...odb } });
    return { commit, leftOut };
  } finally {
    await unlink(tmpIndex).catch(() => undefined);
  }
}

/** Of the changed `paths`, those a snapshot may hold, and the others with the reason. */
async function guardPaths(env: SnapshotEnv, paths: string[]): Promise<{ take: string[]; leftOut: { path: string; reason: string }[] }> {
  const guard = env.guard ?? { maxFileBytes: DEFAULTS.commit.maxFileBytes, secrets: DEFAULTS.secrets };
  const take: string[] = [];
  const leftOut: { path: string; reason: string }[] = [];
  for (const p of paths) {
    const abs = join(env.root, p);
    const st = await lstat(abs).catch(() => null);
    if (st === null) {
      take.push(p); // a deletion
      continue;
    }
    if (st.isDirectory()) {
      leftOut.push({ path: p, reason: 'a nested repository: not taken into this one' });
      continue;
    }
    if (st.isFile() && st.size > guard.maxFileBytes) {
      leftOut.push({ path: p, reason: `larger than commit.maxFileBytes (${st.size} > ${guard.maxFileBytes} bytes)` });
      continue;
    }
    if (guard.secrets.enabled) {
      const why = st.isFile()
        ? await scanFile({ readFile: (a: string) => readFile(a) }, abs, p, { size: st.size, mode: st.mode }, guard.secrets.allow).then((r) => (r && 'held' in r ? r.held : null))
        : scanForSecrets(p, null, guard.secrets.allow);
      if (why) {
        leftOut.push({ path: p, reason: why });
        continue;
      }
    }
    take.push(p);
  }
  return { take, leftOut };
}

function newId(now: number): string {
  return `snap-${compactDate(now)}-${process.pid}-${Math.random().toString(16).slice(2, 6)}`;
}

/** Creates, verifies and returns a snapshot. Throws SnapshotError when verification fails. */
export async function createSnapshot(env: SnapshotEnv, reason: string, now: number): Promise<SnapshotMeta> {
  const id = newId(now);
  const dir = snapshotsDir(env.stateDir);
  const tmp = join(dir, `.${id}.tmp`);
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  const ref = `refs/winnow/snapshot/${id}`;
  // The snapshot's new objects go to a directory of their own, removed once the bundle holds
  // them: a sync leaves nothing of the work tree in the repository's objects.
  const objects = join(dir, `.${id}.objects.tmp`);
  let odb: Record<string, string> = {};
  try {
    const realObjects = await gitText(env.git, ['rev-parse', '--path-format=absolute', '--git-path', 'objects']);
    await mkdir(objects, { recursive: true, mode: 0o700 });
    odb = { GIT_OBJECT_DIRECTORY: objects, GIT_ALTERNATE_OBJECT_DIRECTORIES: realObjects };
    const { head, branch } = await headInfo(env);
    const { commit: wt, leftOut } = await commitWorktree(env, head, `winnow snapshot ${id}: ${reason}`, odb);
    // On an unborn branch the whole work tree is the diff: from the empty tree of the repository's format.
    const base = head ?? emptyTreeOid(await objectFormat(env.git));
    const diffOut = await env.git(['diff', '--binary', '--no-color', '--no-ext-diff', base, wt], { env: odb });
    await writeFileAtomic(join(tmp, 'worktree.diff'), diffOut.stdout);
    const names = (await env.git(['diff', '--name-only', '-z', '--no-renames', base, wt], { env: odb })).stdout.toString('utf8').split('\0').filter(Boolean);
    await env.git(['update-ref', ref, wt], { env: odb });
    const refs = [ref, ...(branch && head ? [`refs/heads/${branch}`] : [])];
    await env.git(['bundle', 'create', '-q', join(tmp, 'repo.bundle'), ...refs], { env: odb });
    await verifyBundle(env, join(tmp, 'repo.bundle'), ref, wt, odb);
    const meta: SnapshotMeta = {
      version: 1,
      id,
      createdAt: new Date(now).toISOString(),
      reason,
      host: env.hostname,
      head,
      branch,
      worktreeCommit: wt,
      dirty: names.slice(0, 1000),
      dirtyCount: names.length,
      ...(leftOut.length ? { leftOut: leftOut.slice(0, 1000) } : {}),
      files: { bundle: await sha256File(join(tmp, 'repo.bundle')), diff: await sha256File(join(tmp, 'worktree.diff')) },
    };
    await writeFileAtomic(join(tmp, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    await rename(tmp, join(dir, id));
    return meta;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    await env.git(['update-ref', '-d', ref], { allowFail: true, env: odb });
    await rm(objects, { recursive: true, force: true });
  }
}

async function verifyBundle(env: SnapshotEnv, file: string, ref: string, want: string, odb: Record<string, string> = {}): Promise<void> {
  const v = await env.git(['bundle', 'verify', '-q', file], { allowFail: true, env: odb });
  if (v.code !== 0) throw new SnapshotError(`snapshot bundle ${file} does not verify: ${v.stderr.trim()}`);
  const heads = (await gitText(env.git, ['bundle', 'list-heads', file])).split('\n');
  if (!heads.some((l) => l === `${want} ${ref}`)) throw new SnapshotError(`snapshot bundle ${file} lacks ${ref} at ${want}.`);
}

/** Snapshots, newest first. Unreadable entries are skipped (a torn one never has meta.json). */
export async function listSnapshots(stateDir: string): Promise<SnapshotMeta[]> {
  const dir = snapshotsDir(stateDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: SnapshotMeta[] = [];
  for (const n of names) {
    if (n.startsWith('.')) continue;
    try {
      const m = JSON.parse(await readFile(join(dir, n, 'meta.json'), 'utf8')) as SnapshotMeta;
      if (m.version === 1 && m.id === n) out.push(m);
    } catch {
      // not a snapshot
    }
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
}

/** Removes snapshots beyond the newest `keep`, and leftovers of interrupted ones. */
export async function pruneSnapshots(stateDir: string, keep: number): Promise<string[]> {
  const dir = snapshotsDir(stateDir);
  const all = await listSnapshots(stateDir);
  const removed: string[] = [];
  for (const m of all.slice(Math.max(1, keep))) {
    await rm(join(dir, m.id), { recursive: true, force: true });
    removed.push(m.id);
  }
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    if (n.startsWith('.snap-') && n.endsWith('.tmp') && !n.includes(`-${process.pid}-`)) await rm(join(dir, n), { recursive: true, force: true });
  }
  return removed;
}

/** Checks a stored snapshot against its meta (hashes) and git (bundle verify). */
export async function verifySnapshot(env: SnapshotEnv, id: string): Promise<SnapshotMeta> {
  const all = await listSnapshots(env.stateDir);
  const m = all.find((s) => s.id === id);
  if (!m) {
    throw new SnapshotError(`no snapshot "${id}" in ${snapshotsDir(env.stateDir)}. Run \`winnow snapshot list\` to see the ids.`);
  }
  const dir = join(snapshotsDir(env.stateDir), id);
  for (const f of [m.files.bundle, m.files.diff]) {
    const got = await sha256File(join(dir, f.name)).catch(() => null);
    if (!got || got.sha256 !== f.sha256) throw new SnapshotError(`snapshot ${id}: ${f.name} is missing or damaged (sha256 differs from meta.json); it cannot be restored.`);
  }
  await verifyBundle(env, join(dir, m.files.bundle.name), `refs/winnow/snapshot/${id}`, m.worktreeCommit);
  return m;
}

export interface RestoreResult {
  restored: SnapshotMeta;
  /** The snapshot taken first, so that the restore itself can be undone. */
  before: SnapshotMeta;
  written: string[];
  removed: string[];
}

/**
 * Makes the work tree's content what it was in snapshot `id`: files that differ are rewritten,
 * files that did not exist then are removed. It snapshots first. HEAD, branches and the index
 * stay as they are: the difference shows up as ordinary changes (which a running daemon commits).
 */
export async function restoreSnapshot(env: SnapshotEnv, id: string, now: number): Promise<RestoreResult> {
  const target = await verifySnapshot(env, id);
  const before = await createSnapshot(env, `before restoring ${id}`, now);
  const ref = `refs/winnow/restore/${id}`;
  const bundle = join(snapshotsDir(env.stateDir), id, target.files.bundle.name);
  await env.git(['fetch', '-q', '--no-tags', '--no-write-fetch-head', bundle, `+refs/winnow/snapshot/${id}:${ref}`]);
  // The snapshot just taken keeps its objects in its bundle only.
  const beforeRef = `refs/winnow/restore-before/${id}`;
  const beforeBundle = join(snapshotsDir(env.stateDir), before.id, before.files.bundle.name);
  const tmpIndex = join(env.stateDir, `restore-index.${process.pid}`);
  try {
    await env.git(['fetch', '-q', '--no-tags', '--no-write-fetch-head', beforeBundle, `+refs/winnow/snapshot/${before.id}:${beforeRef}`]);
    // What the snapshot taken first left out (a secret, a file too large) is not in it: never overwritten or removed.
    const leftOut = new Set((before.leftOut ?? []).map((l) => l.path));
    const lines = (await env.git(['diff', '--name-status', '-z', '--no-renames', before.worktreeCommit, target.worktreeCommit])).stdout
      .toString('utf8')
      .split('\0');
    const write: string[] = [];
    const remove: string[] = [];
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const status = lines[i]!;
      const p = lines[i + 1]!;
      if (leftOut.has(p)) continue;
      if (status === 'D') remove.push(p);
      else write.push(p);
    }
    const rootAbs = resolve(env.root);
    for (const p of remove) {
      const abs = resolve(rootAbs, p);
      if (!abs.startsWith(rootAbs + sep)) continue;
      await rm(abs, { force: true });
    }
    if (write.length) {
      const idx = { GIT_INDEX_FILE: tmpIndex };
      await env.git(['read-tree', target.worktreeCommit], { env: idx });
      await env.git(['checkout-index', '-f', '-z', '--stdin'], { env: idx, input: write.join('\0') + '\0' });
    }
    return { restored: target, before, written: write, removed: remove };
  } finally {
    await unlink(tmpIndex).catch(() => undefined);
    await env.git(['update-ref', '-d', ref], { allowFail: true });
    await env.git(['update-ref', '-d', beforeRef], { allowFail: true });
  }
}
