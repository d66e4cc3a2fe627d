/**
 * The git note winnow attaches to each of its commits (`refs/notes/winnow`): per path, the
 * decision that let it in — layer, rule, reason and the writer evidence — so that "why was this
 * committed?" has an answer that travels with the commit (and with a push of the notes ref).
 *
 * Format: one JSON object per line. A header `{"winnow":1,"kind":…}` and one line per path.
 * Lines may come in any order: `git notes merge -s cat_sort_uniq` (how two machines' notes are
 * combined) sorts them.
 *
 * @example
 *   formatNote({ kind: 'commit', at: 0 }, [{ path: 'a.md', decision: 'ALLOW', layer: 2, rule: null,
 *     reason: 'a person wrote it', evidence: 'fanotify: vim (pid 4242), not autonomous' }])
 */
import type { Decision, Evidence } from '../decision.js';

/**
 * What made the commit: `commit` the daemon; `restore` and `restore-before` a `winnow restore`
 * (the restored content, and the content it replaced); `squash` a person's `winnow squash` (their
 * message: the commit is theirs from then on); `squash-auto` `remote.squashBeforePush`.
 */
export type NoteKind = 'commit' | 'restore' | 'restore-before' | 'squash' | 'squash-auto';

export interface NoteHeader {
  kind: NoteKind;
  /** When winnow wrote it (epoch ms). */
  at: number;
  /** For squashes: the commits folded in, oldest first. */
  folded?: string[];
}

export interface NoteEntry {
  path: string;
  decision: 'ALLOW' | 'BLOCK';
  /** 1–3, or null when no classifier layer decided (a restore, a path committed without a recorded decision). */
  layer: number | null;
  rule: string | null;
  reason: string;
  /** The writer evidence in words, e.g. `fanotify: vim (pid 4242), not autonomous`. */
  evidence?: string;
  /** When the decision was made (epoch ms), when known. */
  at?: number;
}

export interface Note {
  header: NoteHeader;
  entries: NoteEntry[];
}

const KINDS: ReadonlySet<string> = new Set(['commit', 'restore', 'restore-before', 'squash', 'squash-auto']);

/** Evidence in one line a person reads: `fanotify: vim (pid 4242), not autonomous; temporal: …`. */
export function formatEvidence(evidence: readonly Evidence[] | undefined): string | undefined {
  const parts = (evidence ?? [])
    .filter((e) => e.kind !== 'none')
    .map((e) => {
      const who = e.command ? `${e.command}${e.pid ? ` (pid ${e.pid})` : ''}` : e.pid ? `pid ${e.pid}` : 'unknown writer';
      return `${e.kind}: ${who}, ${e.autonomous ? 'autonomous' : 'not autonomous'}${e.detail ? ` (${e.detail})` : ''}`;
    });
  return parts.length ? parts.join('; ') : undefined;
}

/** The entry for a path committed on `d` (its last ALLOW decision), or a plain one when none is known. */
export function entryFor(path: string, d: (Decision & { at?: number }) | undefined): NoteEntry {
  if (!d) return { path, decision: 'ALLOW', layer: null, rule: null, reason: 'no decision recorded (accepted before a restart, or by a rescan)' };
  const ev = formatEvidence(d.evidence);
  return {
    path,
    decision: d.decision,
    layer: d.layer,
    rule: d.rule,
    reason: d.reason,
    ...(ev ? { evidence: ev } : {}),
    ...(d.at !== undefined ? { at: d.at } : {}),
  };
}

export function formatNote(header: NoteHeader, entries: readonly NoteEntry[]): string {
  const lines = [JSON.stringify({ winnow: 1, ...header })];
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) lines.push(JSON.stringify(e));
  return lines.join('\n') + '\n';
}

/** The note in `text`, or null when it is not one of winnow's (someone else's note in the ref). */
export function parseNote(text: string): Note | null {
  let header: NoteHeader | null = null;
  const entries: NoteEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (!o || typeof o !== 'object') continue;
    if (o.winnow === 1 && typeof o.kind === 'string' && KINDS.has(o.kind)) {
      // Two headers after a cat_sort_uniq merge: the newer describes the commit best.
      const h: NoteHeader = { kind: o.kind as NoteKind, at: typeof o.at === 'number' ? o.at : 0 };
      if (Array.isArray(o.folded)) h.folded = o.folded.filter((x): x is string => typeof x === 'string');
      if (!header || h.at >= header.at) header = h;
    } else if (typeof o.path === 'string' && (o.decision === 'ALLOW' || o.decision === 'BLOCK') && typeof o.reason === 'string') {
      entries.push({
        path: o.path,
        decision: o.decision,
        layer: typeof o.layer === 'number' ? o.layer : null,
        rule: typeof o.rule === 'string' ? o.rule : null,
        reason: o.reason,
        ...(typeof o.evidence === 'string' ? { evidence: o.evidence } : {}),
        ...(typeof o.at === 'number' ? { at: o.at } : {}),
      });
    }
  }
  if (!header) return null;
  // A merged note may hold a path twice: keep its latest decision.
  const byPath = new Map<string, NoteEntry>();
  for (const e of entries) {
    const cur = byPath.get(e.path);
    if (!cur || (e.at ?? 0) >= (cur.at ?? 0)) byPath.set(e.path, e);
  }
  return { header, entries: [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

/**
 * One note for commits folded into one (`notes` oldest first): every path once, with the latest
 * commit's decision about it, since that is the content the folded commit holds.
 */
export function foldNotes(notes: readonly (Note | null)[], header: NoteHeader): Note {
  const byPath = new Map<string, NoteEntry>();
  for (const n of notes) for (const e of n?.entries ?? []) byPath.set(e.path, e);
  return { header, entries: [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

/** Whether a note marks winnow's own commit, which `squash` may fold: everything but a person's squash. */
export function isWinnowsOwn(note: Note | null): boolean {
  return note !== null && note.header.kind !== 'squash';
}

/** One entry as text: `ALLOW L2 docs/a.md — reason [rule] {evidence}`. */
export function describeEntry(e: NoteEntry): string {
  return (
    `${e.decision}${e.layer !== null ? ` L${e.layer}` : ''}  ${e.path}\n` +
    `      ${e.reason}` +
    (e.rule ? `\n      rule: ${e.rule}` : '') +
    (e.evidence ? `\n      evidence: ${e.evidence}` : '')
  );
}
