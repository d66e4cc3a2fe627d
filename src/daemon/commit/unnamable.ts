/**
 * Files whose names are not valid UTF-8 (issue 11 case 16). The watcher and `git status` hand them
 * over with U+FFFD in place of the bad bytes, so no git call can name them: layer 1 holds them
 * (`builtin:invalid-utf8-name`), and this keeps them listed in `status` under their real name,
 * quoted the way `git status` prints it (`"latin1-\351\377.txt"`), until the file is gone.
 */
import { readdir } from 'node:fs/promises';
import { quoteC } from '../../core/commit/names.js';

/** Entries shown at most (a tree full of such names must not grow the status without bound). */
const SHOWN_MAX = 200;

export class UnnamableFiles {
  /** The path as it reached us (with U+FFFD) → what status shows. */
  private readonly held = new Map<string, { path: string; reason: string }>();

  constructor(private readonly root: string) {}

  /** A decision on such a path: held while it exists, dropped once it is deleted. */
  async note(path: string, reason: string, deleted: boolean): Promise<void> {
    if (deleted) {
      this.held.delete(path);
      return;
    }
    const raw = await rawName(this.root, path);
    if (raw === null) {
      this.held.delete(path);
      return;
    }
    this.held.delete(path);
    this.held.set(path, { path: quoteC(raw), reason });
    if (this.held.size > SHOWN_MAX) this.held.delete(this.held.keys().next().value as string);
  }

  list(): { path: string; reason: string }[] {
    return [...this.held.values()];
  }
}

/**
 * The bytes of the file's workspace-relative name, found by reading each directory whose name
 * came through with U+FFFD as raw bytes; null when nothing on disk matches any more.
 */
export async function rawName(root: string, path: string): Promise<Buffer | null> {
  let dir = Buffer.from(root);
  const parts: Buffer[] = [];
  for (const c of path.split('/')) {
    let part: Buffer | undefined = Buffer.from(c);
    if (c.includes('\uFFFD')) {
      const entries = await readdir(dir, { encoding: 'buffer' }).catch(() => [] as Buffer[]);
      part = entries.find((e) => e.toString('utf8') === c);
      if (!part) return null;
    }
    parts.push(part);
    dir = Buffer.concat([dir, Buffer.from('/'), part]);
  }
  return Buffer.from(parts.map((p) => p.toString('latin1')).join('/'), 'latin1');
}
