/**
 * The workspace root (or its .git) vanished or moved: stop before anything is committed or
 * written (deleting everything, or recreating the state dir in the void).
 */
import { join } from 'node:path';
import type { Fs, Logger } from '../../ports/index.js';

export class RootGuard {
  /** Once true, stays true: the service stops. */
  gone = false;

  constructor(
    private readonly deps: { root: string; gitDir: string; fs: Fs; logger: Logger; onFatal?: ((message: string) => void) | undefined },
  ) {}

  /** True while the workspace is there; the first time it is not, logs and calls onFatal. */
  async check(): Promise<boolean> {
    if (this.gone) return false;
    const st = await this.deps.fs.stat(join(this.deps.gitDir, 'HEAD')).catch(() => null);
    if (st) return true;
    this.gone = true;
    const { root } = this.deps;
    const msg = `the workspace ${root} (or its git directory) vanished or moved; winnow stopped without committing the deletions. Start it again on the workspace's new location.`;
    this.deps.logger.log('error', 'workspace vanished', { root });
    this.deps.onFatal?.(msg);
    return false;
  }
}
