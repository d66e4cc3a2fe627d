/**
 * The commit holds exactly the bytes the secret scan read (issue 11 cases 8, 9). `update-index`
 * reads each file again after the scan; where git staged other bytes (the file changed in between,
 * or a clean filter such as git-lfs's applies), the scanned bytes are hashed as git would store
 * them at that path and staged instead. A large file (streamed, its bytes not kept) that differs
 * goes back to HEAD's entry and is held until it is judged again. Both ways of building a commit's
 * tree (the private index, the batch's own trees) apply these corrections.
 */
import type { Git } from '../../ports/index.js';
import { hashObjectStep, type Entry } from '../../core/commit/plumbing.js';
import type { Scanned } from './scan.js';

/**
 * Of `paths` (scanned, and staged as `staged` says), those whose staged entry is not the scanned
 * bytes, with the entry to stage instead (null: remove it, the path is not in HEAD).
 */
export async function scannedCorrections(
  git: Git,
  paths: readonly string[],
  staged: ReadonlyMap<string, Entry>,
  head: ReadonlyMap<string, Entry>,
  scanned: ReadonlyMap<string, Scanned>,
  hold: (path: string, reason: string) => void,
): Promise<Map<string, Entry | null>> {
  const out = new Map<string, Entry | null>();
  const text = async (step: Parameters<Git['run']>[0][number]) => (await git.run([step]))[0]!.stdout;
  for (const p of paths) {
    const s = scanned.get(p);
    if (!s) continue;
    const got = staged.get(p) ?? null;
    // The bytes are what the scan is about; a regular file's mode is git's to decide (with
    // core.fileMode false it keeps HEAD's, whatever the file's x bit says).
    const file = got !== null && (got.mode === '100644' || got.mode === '100755');
    if (file && got.oid === s.oid(got.oid.length)) continue;
    if (s.content) {
      const oid = (await text(hashObjectStep(p, s.content))).trim();
      if (file && got.oid === oid) continue; // a clean filter, same bytes
      out.set(p, { mode: file ? got.mode : s.mode, oid });
      continue;
    }
    // A streamed file under git-lfs: git staged its pointer, which names the bytes by sha256.
    if (file && (await lfsPointerOf(text, got.oid, s))) continue;
    out.set(p, head.get(p) ?? null);
    hold(p, 'changed while it was being committed (or a clean filter applies to it) after its secret scan: held until it changes again');
  }
  return out;
}

/** True when blob `oid` is a git-lfs pointer to exactly the scanned bytes (sha256 and size). */
async function lfsPointerOf(text: (step: { args: string[] }) => Promise<string>, oid: string, s: Scanned): Promise<boolean> {
  // A pointer is ~130 bytes; never read a big blob here.
  const size = Number((await text({ args: ['cat-file', '-s', oid] })).trim());
  if (!(size > 0 && size < 1024)) return false;
  const body = await text({ args: ['cat-file', 'blob', oid] });
  const m = /^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n/.exec(body);
  return m !== null && m[1] === s.contentSha256 && Number(m[2]) === s.size;
}
