import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes `data` to `abs` through a temp file in the same directory, fsync and rename, mode 0600,
 * creating the directory (0700) on the way. A leaf utility: it imports nothing of winnow's, so
 * adapters and daemon may both use it.
 */
export async function writeFileAtomic(abs: string, data: string | Buffer): Promise<void> {
  await mkdir(dirname(abs), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeNew(tmp, data);
  try {
    await rename(tmp, abs);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Creates `abs` (mode 0600; EEXIST if it is there), writes `data` and fsyncs it. */
export async function writeNew(abs: string, data: string | Buffer): Promise<void> {
  const fh = await open(abs, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
