import { lstat, mkdir, readFile, rm, statfs } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Fs, FileStat } from '../ports/index.js';

export { writeFileAtomic };

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
        mode: s.mode & 0o7777,
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
