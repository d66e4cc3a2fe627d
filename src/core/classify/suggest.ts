/**
 * `winnow rules suggest`: BLOCK rules proposed for the paths the churn detector quarantined.
 */
import { escapeGlob, formatRule, SPECIAL, validateGlob } from './rule-text.js';

export interface ChurnEntry {
  path: string;
  events?: number;
  periodMs?: number;
}

/**
 * Proposes `BLOCK:<glob>:<why>` lines for quarantined paths. Sibling paths with the same
 * extension in one directory become `dir/*.ext`; single paths are anchored literals (a bare
 * base name would match at any depth). Paths `isBlocked` already covers are left out.
 */
export function suggestRules(entries: readonly ChurnEntry[], isBlocked: (path: string) => boolean = () => false): string[] {
  const groups = new Map<string, ChurnEntry[]>();
  for (const e of entries) {
    if (!e.path || isBlocked(e.path)) continue;
    const slash = e.path.lastIndexOf('/');
    const dir = slash < 0 ? '' : e.path.slice(0, slash);
    const base = e.path.slice(slash + 1);
    const dot = base.lastIndexOf('.');
    const ext = dot > 0 ? base.slice(dot) : '';
    const key = `${dir}\0${ext}`;
    const list = groups.get(key) ?? [];
    list.push(e);
    groups.set(key, list);
  }
  const out: string[] = [];
  const seen = new Set<string>();
  for (const [key, list] of groups) {
    const [dir, ext] = key.split('\0') as [string, string];
    const lines: [string, string][] = [];
    if (list.length >= 2 && ext && !SPECIAL.test(ext) && !ext.includes(':')) {
      const d = dir ? `${escapeGlob(dir)}/` : '/';
      lines.push([`${d}*${ext}`, `${list.length} files churned ${periodText(list)}with no human evidence (quarantined)`]);
    } else {
      for (const e of list) {
        const glob = e.path.includes('/') ? escapeGlob(e.path) : `/${escapeGlob(e.path)}`;
        const n = e.events ? `${e.events} changes ` : '';
        lines.push([glob, `churned: ${n}${periodText([e])}with no human evidence (quarantined)`]);
      }
    }
    for (const [glob, why] of lines) {
      // A `:` cannot appear in a rule's glob; such a path needs a hand-written rule.
      if (glob.includes(':') || validateGlob(glob)) {
        out.push(`# cannot express ${JSON.stringify(glob)} as a rule glob; write one by hand`);
        continue;
      }
      const line = formatRule({ action: 'BLOCK', glob, description: why });
      if (!seen.has(line)) out.push(line);
      seen.add(line);
    }
  }
  return out;
}

function periodText(list: readonly ChurnEntry[]): string {
  const ps = list.map((e) => e.periodMs).filter((p): p is number => typeof p === 'number' && p > 0);
  if (!ps.length) return '';
  const med = ps.sort((a, b) => a - b)[Math.floor(ps.length / 2)]!;
  return med >= 60_000 ? `about every ${Math.round(med / 60_000)} min ` : `about every ${Math.max(1, Math.round(med / 1000))} s `;
}
