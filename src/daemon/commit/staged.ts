/**
 * Paths the person staged by hand with content different from HEAD (SPEC "Coordination"): theirs,
 * left out of winnow's commits and listed in `status`, until their index holds HEAD's entry again
 * (they committed or unstaged them). No event says when that happens: the committer looks again
 * on its recheck timer, and an unchanged index file costs no git call.
 */
import { join } from 'node:path';
import type { Fs, Logger } from '../../ports/index.js';
import type { Prepared } from './prepare.js';

export interface StagedDeps {
  fs: Fs;
  logger: Logger;
  git: { readonly gitDir: string };
  /** A dry-run prepare (no holds, no secret scan) of `paths` through porcelain. */
  prepareDry(paths: string[]): Promise<Prepared>;
}

export class StagedByHand {
  private readonly paths = new Map<string, string>();
  /** The person's index file when `paths` was last looked at (size:mtime), so an unchanged index costs no git call. */
  private indexKey = '';

  constructor(private readonly deps: StagedDeps) {}

  get size(): number {
    return this.paths.size;
  }

  entries(): IterableIterator<[string, string]> {
    return this.paths.entries();
  }

  /** Submitted again means changed again: judged afresh. */
  delete(path: string): void {
    this.paths.delete(path);
  }

  /** prepare found these staged by hand: they are the person's. */
  leave(staged: { path: string; reason: string }[]): void {
    for (const s of staged) {
      if (!this.paths.has(s.path)) this.deps.logger.log('info', 'staged by hand; left to the person', { path: s.path, reason: s.reason });
      this.paths.set(s.path, s.reason);
    }
    if (staged.length) this.indexKey = '';
  }

  /**
   * Staged paths whose index entry is HEAD's again (the person committed them, or unstaged them):
   * they leave this list and are returned, for the committer to queue; what is left in the work
   * tree is winnow's to commit.
   */
  async recheck(): Promise<string[]> {
    const { fs, git } = this.deps;
    const st = await fs.stat(join(git.gitDir, 'index')).catch(() => null);
    const key = st ? `${st.size}:${st.mtimeMs}` : 'none';
    if (key === this.indexKey) return [];
    this.indexKey = key;
    const paths = [...this.paths.keys()];
    try {
      const { staged } = await this.deps.prepareDry(paths);
      const still = new Set(staged.map((s) => s.path));
      const back = paths.filter((p) => !still.has(p));
      for (const p of back) this.paths.delete(p);
      if (back.length) this.deps.logger.log('info', 'no longer staged by hand; committing what is left', { paths: back });
      return back;
    } catch {
      this.indexKey = '';
      return [];
    }
  }
}
