/**
 * The secret scan at commit time, reading each file once (issue 11 cases 8, 9): a file up to
 * SCAN_READ_MAX is read whole and its bytes are kept, so the commit holds exactly what was scanned
 * (private-index.ts checks the staged blob against them); a larger one is streamed through the
 * scanner in bounded memory while its blob id is computed, and the commit keeps it only if git
 * staged that same blob.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { scanForSecrets, secretAllowed, createSecretScanner, SCAN_BYTES } from '../../core/commit/secrets.js';
import type { Fs } from '../../ports/index.js';

/** Files up to this size are read whole and kept until the commit; larger ones are streamed. */
export const SCAN_READ_MAX = 16 * 1024 * 1024;

/** What was scanned for one regular file: its blob id (sha1 and sha256) and, when small, the bytes. */
export interface Scanned {
  size: number;
  /** 100644 or 100755, from the file's mode when it was read. */
  mode: '100644' | '100755';
  /** Blob ids of the scanned bytes: `oid(40)` for a sha1 repository, `oid(64)` for sha256. */
  oid(length: number): string;
  /** The bytes, for files up to SCAN_READ_MAX; null for a streamed one. */
  content: Buffer | null;
  /** sha256 of the bytes themselves (no blob header): what a git-lfs pointer names. */
  contentSha256: string;
}

function blobIds(size: number): { update(b: Buffer): void; digest(): { sha1: string; sha256: string; plain: string } } {
  const header = Buffer.from(`blob ${size}\0`);
  const h1 = createHash('sha1').update(header);
  const h2 = createHash('sha256').update(header);
  const h3 = createHash('sha256');
  return {
    update(b) {
      h1.update(b);
      h2.update(b);
      h3.update(b);
    },
    digest: () => ({ sha1: h1.digest('hex'), sha256: h2.digest('hex'), plain: h3.digest('hex') }),
  };
}

/**
 * Scans the regular file `abs` (workspace path `path`). Returns the reason to hold it, or what was
 * scanned. Null when the file is gone or unreadable (the commit then judges it as it is now).
 */
export async function scanFile(
  fs: Pick<Fs, 'readFile'>,
  abs: string,
  path: string,
  st: { size: number; mode?: number },
  allow: readonly string[],
): Promise<{ held: string } | { scanned: Scanned } | null> {
  const mode = st.mode !== undefined && st.mode & 0o100 ? '100755' : '100644';
  if (st.size <= SCAN_READ_MAX) {
    const content = await fs.readFile(abs).catch(() => null);
    if (content === null) return null;
    const why = scanForSecrets(path, content, allow);
    if (why) return { held: why };
    const ids = blobIds(content.length);
    ids.update(content);
    const d = ids.digest();
    return { scanned: { size: content.length, mode, content, contentSha256: d.plain, oid: (n) => (n === 64 ? d.sha256 : d.sha1) } };
  }
  const byName = scanForSecrets(path, null, allow);
  if (byName) return { held: byName };
  const allowed = secretAllowed(path, allow);
  let fh;
  try {
    fh = await open(abs, 'r');
  } catch {
    return null;
  }
  try {
    const size = (await fh.stat()).size;
    const ids = blobIds(size);
    const scanner = createSecretScanner();
    const buf = Buffer.alloc(SCAN_BYTES);
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      total += bytesRead;
      if (!allowed && scanner.push(chunk)) return { held: `${scanner.result()} (in a ${Math.round(size / 1048576)} MiB file)` };
      ids.update(chunk);
    }
    // It grew or shrank while being read: the blob id is not that of any one version of it.
    if (total !== size) return { held: 'changed while it was scanned for secrets: held until it is judged again' };
    const d = ids.digest();
    return { scanned: { size, mode, content: null, contentSha256: d.plain, oid: (n) => (n === 64 ? d.sha256 : d.sha1) } };
  } finally {
    await fh.close();
  }
}
