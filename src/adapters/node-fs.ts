import { lstat, mkdir, open, readFile, rename, rm, statfs, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Fs, FileStat } from '../ports/index.js';

/** Writes `data` to `abs` through a temp file in the same directory and a rename, mode 0600. */
export async function writeFileAtomic(abs: string, data: string | Buffer): Promise<void> {
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, abs);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

export const nodeFs: Fs = {
  readFile: (abs) => readFile(abs),
  async stat(abs): Promise<FileStat | null> {
    try {
      const s = await lstat(abs);
      return {
        size: s.size,
        mtimeMs: s.mtimeMs,
        isFile: s.isFile(),
        isDirectory: s.isDirectory(),
        isSymlink: s.isSymbolicLink(),
        isSpecial: s.isFIFO() || s.isSocket() || s.isCharacterDevice() || s.isBlockDevice(),
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw e;
    }
  },
  writeFileAtomic,
  async mkdirp(abs) {
    await mkdir(abs, { recursive: true, mode: 0o700 });
  },
  async remove(abs) {
    await rm(abs, { force: true, recursive: true });
  },
  async freeBytes(abs) {
    const s = await statfs(abs);
    return Number(s.bavail) * Number(s.bsize);
  },
};
