import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

/**
 * Writes `data` to `abs` through a temp file in the same directory, fsync and rename, mode 0600,
 * creating the directory (0700) on the way unless `createDir` is false (then a missing directory
 * is ENOENT: a state file must never recreate a workspace that vanished). A leaf utility: it imports nothing of winnow's, so
 * adapters and daemon may both use it.
 */
let seq = 0;

/**
 * A temp-file suffix unique to this process and call: pid, a counter, and a random tail (a PID
 * reused by another process on a shared file system). Not node:crypto: loading it costs the
 * daemon ~2 MB of RSS, for a name that `wx` (O_EXCL) makes safe anyway.
 */
export function tempSuffix(): string {
  return `${process.pid}.${++seq}.${Math.floor(Math.random() * 0x100000000).toString(16)}`;
}

export async function writeFileAtomic(abs: string, data: string | Buffer, opts: { createDir?: boolean } = {}): Promise<void> {
  if (opts.createDir !== false) await mkdir(dirname(abs), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(abs), `.${basename(abs)}.${tempSuffix()}.tmp`);
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
