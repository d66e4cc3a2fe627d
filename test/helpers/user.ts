/**
 * An ordinary, unprivileged user for tests of what winnow does without root (CI runs as root).
 *
 * `testUser()` creates the user `winnow-test` once (`useradd -m`, idempotent, safe when several
 * test files race to create it) when the tests run as root, or uses the current user when the
 * tests already run as `winnow-test`. Otherwise it returns `{skip}` with the reason, for
 * `test(..., {skip})`.
 *
 * Commands run as the user through `setpriv --reuid --regid --init-groups` (a uid change from
 * root drops every capability, so fanotify and ptrace of other users' processes are refused, as
 * on a laptop). `userRepo()` makes a temp git repo owned by the user, created with the user's
 * own git, so that the daemon, the agent and the person can all run as the user.
 *
 * @example
 * const u = testUser();
 * test('as an ordinary user', { skip: 'skip' in u ? u.skip : false }, async () => {
 *   const user = u as TestUser;
 *   const repo = await userRepo(user);
 *   const agent = user.spawn('sh', ['-c', 'printf x > a.txt'], { cwd: repo.root });
 * });
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtemp, realpath, rm, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { GIT_ENV } from './repo.js';

export const TEST_USER_NAME = 'winnow-test';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** Environment for the user's processes: GIT_ENV with the user's HOME and a private XDG dir. */
  env: NodeJS.ProcessEnv;
  /** `argv` wrapped so that it runs as the user (unchanged when the tests already run as them). */
  wrap(argv: string[]): string[];
  /** Spawns `cmd args` as the user, with `env` merged over the user's environment. */
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Runs `cmd args` as the user and returns stdout; throws with stderr on a non-zero exit. */
  run(cmd: string, args: string[], opts?: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv }): string;
}

let cached: TestUser | { skip: string } | null = null;

function idOf(name: string): { uid: number; gid: number; home: string } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const home = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(':')[5] ?? '/';
    return Number.isFinite(uid) && Number.isFinite(gid) ? { uid, gid, home } : null;
  } catch {
    return null;
  }
}

/** The unprivileged test user, created on first use when running as root; `{skip}` when impossible. */
export function testUser(): TestUser | { skip: string } {
  if (cached) return cached;
  cached = makeUser();
  return cached;
}

function makeUser(): TestUser | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'an unprivileged test user is created only on Linux' };
  const me = process.getuid?.();
  let ids = idOf(TEST_USER_NAME);
  const isUser = ids !== null && me === ids.uid;
  if (!isUser && me !== 0) {
    return { skip: `needs root (to create and become the user ${TEST_USER_NAME}) or to run as ${TEST_USER_NAME}` };
  }
  if (!ids) {
    try {
      execFileSync('useradd', ['-m', '-s', '/bin/sh', TEST_USER_NAME], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      // Another test file may have created it meanwhile (useradd exits 9: already exists).
      if (!idOf(TEST_USER_NAME)) return { skip: `cannot create the user ${TEST_USER_NAME}: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}` };
    }
    ids = idOf(TEST_USER_NAME);
    if (!ids) return { skip: `the user ${TEST_USER_NAME} could not be looked up after useradd` };
  }
  const { uid, gid, home } = ids;
  const env: NodeJS.ProcessEnv = {
    ...GIT_ENV,
    HOME: home,
    USER: TEST_USER_NAME,
    LOGNAME: TEST_USER_NAME,
    // Root's tests may have created the shared XDG dir; the user gets a private one.
    XDG_CONFIG_HOME: join(tmpdir(), `winnow-test-xdg-${TEST_USER_NAME}`),
  };
  const wrap = (argv: string[]): string[] =>
    isUser ? argv : ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', ...argv];
  return {
    name: TEST_USER_NAME,
    uid,
    gid,
    home,
    env,
    wrap,
    spawn(cmd, args, opts = {}) {
      const [c, ...a] = wrap([cmd, ...args]);
      return spawn(c!, a, { ...opts, env: { ...env, ...(opts.env ?? {}) } });
    },
    run(cmd, args, opts = {}) {
      const [c, ...a] = wrap([cmd, ...args]);
      return execFileSync(c!, a, {
        cwd: opts.cwd,
        env: { ...env, ...(opts.env ?? {}) },
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe'],
        ...(opts.input !== undefined ? { input: opts.input } : {}),
      });
    },
  };
}

export interface UserRepo {
  root: string;
  /** git as the user (root's git refuses a repository owned by someone else). */
  git(...args: string[]): string;
  /** Writes a file as the user (parents created), so the user owns it. */
  write(rel: string, content: string): void;
  cleanup(): Promise<void>;
}

/**
 * A temp git repo owned by `user`, with branch `main`, a fixed identity and one commit of
 * README.md. Its parent directory is private to the user too.
 */
export async function userRepo(user: TestUser, opts: { initialCommit?: boolean } = {}): Promise<UserRepo> {
  const base = await realpath(tmpdir());
  const parent = await mkdtemp(join(base, 'winnow-user-'));
  await chmod(parent, 0o755);
  const root = join(parent, 'ws');
  await mkdir(root);
  if (process.getuid?.() === 0 && user.uid !== 0) execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, parent]);
  const git = (...args: string[]) => user.run('git', args, { cwd: root });
  const write = (rel: string, content: string) => {
    const abs = join(root, rel);
    user.run('mkdir', ['-p', dirname(abs)]);
    user.run('sh', ['-c', 'cat > "$1"', 'sh', abs], { input: content });
  };
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Test Person');
  git('config', 'user.email', 'person@example.test');
  git('config', 'commit.gpgsign', 'false');
  if (opts.initialCommit !== false) {
    write('README.md', '# test workspace\n');
    git('add', 'README.md');
    git('commit', '-q', '-m', 'initial');
  }
  return { root, git, write, cleanup: () => rm(parent, { recursive: true, force: true }) };
}
