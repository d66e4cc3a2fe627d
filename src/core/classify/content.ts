/**
 * Layer 3: did anything but a timestamp change? Pure: bytes in, verdict out; `now` is an argument.
 *
 * JSON is recognised by extension only (`.json`). Content sniffing of extension-less files is not
 * done: almost any short text (`1`, `true`, `"x"`) parses as JSON, and a person's edit must never be
 * judged by rules meant for machine-written state. `.jsonc`/`.json5` are not JSON.parse-able with
 * their comments, so they are plain text here (every change ALLOW).
 */
import type { ContentOptions, ContentVerdict, JsonParse } from './json-compare.js';
import { compareJson, parseJson } from './json-compare.js';
import { compareJsonLines } from './json-lines.js';

export { compareJson, parseJson, type ContentOptions, type ContentVerdict, type JsonParse } from './json-compare.js';
export { compareJsonLines } from './json-lines.js';
export { canonicalIsoMsOf, isTimestampLike } from './timestamps.js';

const LOG_RE = /\.log(?:\.\d+)?$/i;
const BACKUP_RE = /(?:~|\.bak|\.swp|\.swo|\.tmp|\.orig)$/i;

function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** Logs (`*.log`, `*.log.N`) and editor backup/temporary files (`*~`, `*.bak`, `*.swp`, `*.tmp`, `*.orig`, `#*#`). */
export function isLogOrTemp(path: string): 'log' | 'temp' | null {
  const b = baseName(path);
  if (LOG_RE.test(b)) return 'log';
  if (BACKUP_RE.test(b) || (b.length > 2 && b.startsWith('#') && b.endsWith('#'))) return 'temp';
  return null;
}

export function isJsonPath(path: string): boolean {
  return /\.json$/i.test(path);
}
/**
 * Above this size a file is compared with HEAD by blob id (git hashes the work-tree file in its
 * own process), never read into the daemon: a 100 MB file read whole, and its HEAD blob beside it,
 * cost hundreds of MB of RSS and stalled every small change behind it. JSON up to `json.maxBytes`
 * is still read whole, since its volatile keys need the parsed content.
 */
export const LARGE_FILE_BYTES = 1024 * 1024;

/**
 * Whether layer 3 compares `path` by blob id rather than by content: true when the work-tree file
 * or the HEAD blob is over LARGE_FILE_BYTES, unless it is JSON that json.maxBytes lets through.
 */
export function comparesByHash(path: string, size: number, headSize: number | null, opts: Pick<ContentOptions, 'maxBytes'>): boolean {
  const big = Math.max(size, headSize ?? 0);
  if (big <= LARGE_FILE_BYTES) return false;
  return !(isJsonPath(path) && big <= opts.maxBytes);
}

/**
 * Layer 3 for a large file: the blob id git gives the work-tree file against HEAD's. Equal: the
 * same content (BLOCK, unchanged); else a content change, said to be judged by hash.
 */
export function compareByBlobId(path: string, headId: string | null, currentId: string): ContentVerdict {
  const kind = isLogOrTemp(path);
  if (kind === 'log') return { decision: 'BLOCK', reason: 'log file' };
  if (kind === 'temp') return { decision: 'BLOCK', reason: 'backup or temporary file' };
  if (headId === null) return { decision: 'ALLOW', reason: 'content change (new file; large, compared by hash)' };
  if (headId === currentId) return { decision: 'BLOCK', reason: 'unchanged (same blob id as HEAD; large, compared by hash)' };
  return { decision: 'ALLOW', reason: 'content change (large file, compared by hash, not read)' };
}

/**
 * Layer 3 verdict for one path. `head` is the committed content (null: not at HEAD), `current` the
 * content on disk (null: deleted). Pass `headJson` when the parsed HEAD is cached (by blob id).
 */
export function compareContent(
  path: string,
  head: Buffer | null,
  current: Buffer | null,
  opts: ContentOptions,
  now: number,
  headJson?: JsonParse,
): ContentVerdict {
  const kind = isLogOrTemp(path);
  if (kind === 'log') return { decision: 'BLOCK', reason: 'log file' };
  if (kind === 'temp') return { decision: 'BLOCK', reason: 'backup or temporary file' };
  if (current === null) {
    return head === null
      ? { decision: 'BLOCK', reason: 'unchanged (absent at HEAD and on disk)' }
      : { decision: 'ALLOW', reason: 'content change (deleted)' };
  }
  if (head === null) return { decision: 'ALLOW', reason: 'content change (new file)' };
  if (head.equals(current)) return { decision: 'BLOCK', reason: 'unchanged (same bytes as HEAD)' };
  if (!isJsonPath(path)) return { decision: 'ALLOW', reason: 'content change' };
  if (current.length > opts.maxBytes || head.length > opts.maxBytes) {
    return { decision: 'ALLOW', reason: `content change (JSON over json.maxBytes = ${opts.maxBytes} bytes, not compared)` };
  }
  const h = headJson ?? parseJson(head);
  if (h.ok) {
    const fast = compareJsonLines(head, current, opts, now);
    if (fast) return fast;
  }
  const cur = parseJson(current);
  if (!cur.ok) return { decision: 'ALLOW', reason: 'content change (invalid JSON)' };
  if (!h.ok) return { decision: 'ALLOW', reason: 'content change (invalid JSON at HEAD)' };
  return compareJson(h, cur.value, opts, now);
}
