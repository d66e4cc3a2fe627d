/**
 * The batch index's `update-index` (direct-tree.ts), started before the batch is known. Node's
 * spawn forks the whole daemon on its event loop: ~10–20 ms of the time between a settle window
 * closing and HEAD moving at 100k files (docs/benchmarks.md). The next batch's update-index is
 * started once a commit is recorded (and after `ready`), and waits on its stdin for the paths; it locks
 * the batch index at start, which is winnow's own file, used by nothing else.
 *
 * git reads its configuration when it starts; filters, eol and mode rules would then be those of
 * that moment. A prestarted command is used only when no configuration file git reads has changed
 * since it started (repository, worktree, global, XDG and system files); otherwise it is ended
 * and the batch gets a fresh one. `.gitattributes` is read per path, when the paths come.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Fs, Git, GitStep } from '../../ports/index.js';
import type { PrivateIndexAt } from '../../core/commit/plumbing.js';
import { pathspecStdin } from '../../core/commit/plan.js';
import { prestart, type Prestarted } from './prestart.js';

export interface BatchStagerDeps {
  git: Git;
  fs: Fs;
  /** The batch index file. */
  file: string;
  where(): Promise<PrivateIndexAt>;
  env?: NodeJS.ProcessEnv;
}

export class BatchStager {
  private next: { cmd: Prestarted; stamp: string } | null = null;
  /** A prestart being set up: a batch waits for it, so two never share the lock. */
  private starting: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly deps: BatchStagerDeps) {}

  /** Starts the next batch's update-index unless one waits already. */
  prestart(): Promise<void> {
    if (this.next || this.starting || this.closed) return this.starting ?? Promise.resolve();
    this.starting = (async () => {
      const at = await this.deps.where();
      const stamp = await this.configStamp();
      await this.clear();
      if (!this.closed) this.next = { cmd: prestart(this.deps.git, batchUpdateStep(at, this.deps.file)), stamp };
    })()
      .catch(() => undefined)
      .finally(() => (this.starting = null));
    return this.starting;
  }

  /** `update-index` of `paths` on an empty batch index: git's stderr (names it refused). */
  async stage(paths: readonly string[]): Promise<{ stderr: string }> {
    await this.starting;
    const pre = this.next;
    this.next = null;
    if (pre && pre.stamp === (await this.configStamp())) {
      try {
        return { stderr: (await pre.cmd.run(pathspecStdin(paths))).stderr };
      } catch {
        // It died meanwhile (a timeout, a kill): a fresh one below.
      }
    } else if (pre) {
      pre.cmd.cancel();
      await pre.cmd.done;
    }
    await this.clear();
    const [{ stderr }] = (await this.deps.git.run([{ ...batchUpdateStep(await this.deps.where(), this.deps.file), stdin: pathspecStdin(paths) }])) as [
      { stdout: string; stderr: string },
    ];
    return { stderr };
  }

  /** Ends the waiting command (stdin ends empty: it stages nothing) and waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.starting;
    const pre = this.next;
    this.next = null;
    if (pre) {
      pre.cmd.cancel();
      await pre.cmd.done;
    }
  }

  /**
   * Only this daemon (it holds daemon.lock) uses the batch index: a lock left there belongs to a
   * git it started and lost (a timeout's SIGKILL), and would send every later batch the slow way.
   */
  private async clear(): Promise<void> {
    await this.deps.fs.remove(`${this.deps.file}.lock`);
    await this.deps.fs.remove(this.deps.file);
  }

  /** The modification times of the configuration files git reads (absent: 0). */
  private async configStamp(): Promise<string> {
    const env = this.deps.env ?? process.env;
    const home = env.HOME ?? homedir();
    const gitDir = this.deps.git.gitDir;
    const files = [
      join(gitDir, 'config'),
      join(gitDir, 'config.worktree'),
      // A linked worktree's git dir is <common>/worktrees/<name>: the repository's config is two up.
      join(gitDir, '..', '..', 'config'),
      env.GIT_CONFIG_GLOBAL ?? join(home, '.gitconfig'),
      join(env.XDG_CONFIG_HOME || join(home, '.config'), 'git', 'config'),
      env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig',
    ];
    const times = await Promise.all(files.map((f) => this.deps.fs.stat(f).then((s) => s?.mtimeMs ?? 0, () => 0)));
    return times.join(':');
  }
}

/** The batch index's update-index, its paths on stdin. */
export function batchUpdateStep(at: PrivateIndexAt, file: string): Omit<GitStep, 'stdin'> {
  const env: Record<string, string> =
    typeof at === 'string' ? { GIT_INDEX_FILE: file } : { GIT_INDEX_FILE: file, GIT_DIR: at.gitDir, GIT_WORK_TREE: at.workTree };
  return {
    args: ['-c', 'core.splitIndex=false', 'update-index', '--add', '--remove', '-z', '--stdin'],
    env: { ...env, GIT_LITERAL_PATHSPECS: '1' },
  };
}
