import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../adapters/node-fs.js';

/**
 * The daemon writes its own state files through this one function (temp + rename, 0600).
 * It re-exports the fs adapter's implementation so that daemon code does not import adapters
 * piecemeal; the state dir is created 0700 on the way.
 */
export async function writeFileAtomicPort(abs: string, data: string | Buffer): Promise<void> {
  await mkdir(dirname(abs), { recursive: true, mode: 0o700 });
  await writeFileAtomic(abs, data);
}
