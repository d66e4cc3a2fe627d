/**
 * The body of a winnow commit message: each path with its added and removed line counts, from
 * `git diff-tree --numstat -z` (no rename detection, so each path is one record).
 *
 * @example formatBody([{ path: 'docs/a.md', added: 3, removed: 1 }]) // 'docs/a.md | +3 -1'
 */
import { displayPath } from './summary.js';

export interface PathStat {
  path: string;
  /** Null for a binary file (numstat prints `-`). */
  added: number | null;
  removed: number | null;
}

/** Parses `diff-tree --numstat -z` records: `added\tremoved\tpath\0`. */
export function parseNumstat(stdout: string): PathStat[] {
  const out: PathStat[] = [];
  for (const rec of stdout.split('\0')) {
    const m = /^(\d+|-)\t(\d+|-)\t([\s\S]+)$/.exec(rec.replace(/^\n/, ''));
    if (!m) continue;
    out.push({ path: m[3]!, added: m[1] === '-' ? null : Number(m[1]), removed: m[2] === '-' ? null : Number(m[2]) });
  }
  return out;
}

/** Lines listed before "(+N more paths)": a message is read, not scrolled. */
export const BODY_MAX_LINES = 50;

export function formatBody(stats: readonly PathStat[], maxLines = BODY_MAX_LINES): string {
  const sorted = [...stats].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const lines = sorted.slice(0, maxLines).map((s) => `${displayPath(s.path)} | ${s.added === null ? 'binary' : `+${s.added} -${s.removed}`}`);
  if (sorted.length > maxLines) lines.push(`(+${sorted.length - maxLines} more paths)`);
  return lines.join('\n');
}

/** Subject and body as one message (git's blank line between them); the subject alone when there is no body. */
export function withBody(subject: string, body: string): string {
  return body ? `${subject}\n\n${body}\n` : subject;
}

/**
 * What a `commit.messageCommand` printed, as a message: trailing blank lines dropped; null when
 * nothing usable came out (the template is used instead).
 */
export function messageFromCommand(stdout: string): string | null {
  const text = stdout.replace(/\r\n/g, '\n').replace(/^\s*\n/, '').trimEnd();
  if (!text.trim()) return null;
  return text;
}
