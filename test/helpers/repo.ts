import { mkdtemp, realpath, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { execFileSync } from 'node:child_process';

/** Environment for git in tests: fixed identity, no user/system config leaking in. */
export const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test Person',
  GIT_AUTHOR_EMAIL: 'person@example.test',
  GIT_COMMITTER_NAME: 'Test Person',
  GIT_COMMITTER_EMAIL: 'person@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  // The global workspace registry goes to a test folder, never the real ~/.config.
  XDG_CONFIG_HOME: join(tmpdir(), 'winnow-test-xdg'),
};

export interface TempRepo {
  root: string;
  git(...args: string[]): string;
  write(rel: string, content: string | Buffer): Promise<void>;
  cleanup(): Promise<void>;
}

/** A fresh git repo under realpath(os.tmpdir()) with branch `main` and a fixed identity (sha1 unless `objectFormat` says otherwise). */
export async function tempRepo(opts: { initialCommit?: boolean; objectFormat?: 'sha1' | 'sha256' } = {}): Promise<TempRepo> {
  const base = await realpath(tmpdir());
  const root = await mkdtemp(join(base, 'winnow-test-'));
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  git('init', '-q', `--object-format=${opts.objectFormat ?? 'sha1'}`, '-b', 'main');
  git('config', 'user.name', 'Test Person');
  git('config', 'user.email', 'person@example.test');
  git('config', 'commit.gpgsign', 'false');
  const write = async (rel: string, content: string | Buffer) => {
    const abs = join(root, rel);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
  };
  if (opts.initialCommit !== false) {
    await write('README.md', '# test workspace\n');
    git('add', 'README.md');
    git('commit', '-q', '-m', 'initial');
  }
  return { root, git, write, cleanup: () => rm(root, { recursive: true, force: true }) };
}
