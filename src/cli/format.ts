import type { Decision } from '../core/decision.js';

/** All user-facing formatting of decisions and durations lives here (STYLE.md habit 10). */

export function formatDecision(d: Decision): string {
  const t = d.timings;
  const times = [
    t?.l1Ns !== undefined ? `L1 ${(t.l1Ns / 1000).toFixed(1)}µs` : null,
    t?.l2Us !== undefined ? `L2 ${t.l2Us.toFixed(0)}µs` : null,
    t?.l3Us !== undefined ? `L3 ${t.l3Us.toFixed(0)}µs` : null,
  ].filter(Boolean);
  const ev = (d.evidence ?? [])
    .filter((e) => e.kind !== 'none')
    .map((e) => `${e.kind}${e.pid ? ` pid ${e.pid}` : ''}${e.command ? ` (${e.command})` : ''}${e.autonomous ? ' autonomous' : ''}`);
  return (
    `${d.decision.padEnd(5)} L${d.layer}  ${d.path}\n` +
    `       ${d.reason}${d.rule ? `\n       rule: ${d.rule}` : ''}` +
    (ev.length ? `\n       evidence: ${ev.join('; ')}` : '') +
    (times.length ? `\n       time: ${times.join(', ')}` : '') +
    '\n'
  );
}

/** The SPEC's decision record, exactly these keys first (plus evidence and timings when present). */
export function decisionRecord(d: Decision): Record<string, unknown> {
  const rec: Record<string, unknown> = { path: d.path, decision: d.decision, layer: d.layer, rule: d.rule, reason: d.reason };
  if (d.evidence?.length) rec.evidence = d.evidence;
  if (d.timings) rec.timings = d.timings;
  return rec;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `90s`, `10m`, `1h30m`, `500ms`, or a bare number of seconds; null when malformed. */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(t))) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  return consumed === t.length && consumed > 0 ? Math.round(total) : null;
}

export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const ms = now - Date.parse(iso);
  return ms >= 0 ? `${humanMs(ms)} ago` : `in ${humanMs(-ms)}`;
}

export function humanMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.round((ms % 3_600_000) / 60_000)}m`;
}
