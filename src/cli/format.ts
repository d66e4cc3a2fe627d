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

/**
 * `850ms`, `2.5s`, `42s`, `1m5s`, `2h0m`. Rounds once, to the unit shown, before splitting, so a
 * carry moves up (59.6 s is `1m0s`, never `59m60s` or `1m60s`).
 */
export function humanMs(ms: number): string {
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 100) return `${(tenths / 10).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  const m = Math.round(ms / 60_000);
  return `${Math.floor(m / 60)}h${m % 60}m`;
}

const clockTime = (iso: unknown): string => {
  const d = new Date(typeof iso === 'string' ? iso : Date.now());
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
};

const listPaths = (paths: unknown): string => {
  const p = Array.isArray(paths) ? paths.map(String) : [];
  return p.length > 3 ? `${p.slice(0, 3).join(', ')} (+${p.length - 3} more)` : p.join(', ');
};

/**
 * One JSON log line of the daemon as a person reads it on a terminal: `12:04:05 ALLOW L3
 * docs/a.md: content change`. A line that is not JSON is returned as it is.
 */
export function formatLogLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const { t, level, msg, ...fields } = o;
  const at = clockTime(t);
  if (msg === 'decision') {
    const rule = fields.rule ? ` [${String(fields.rule)}]` : '';
    return `${at} ${String(fields.decision).padEnd(5)} L${String(fields.layer)} ${String(fields.path)}: ${String(fields.reason)}${rule}\n`;
  }
  if (msg === 'commit') return `${at} committed ${String(fields.sha).slice(0, 10)}: ${listPaths(fields.paths)}\n`;
  if (msg === 'ready') return `${at} ready: watching for changes (pid ${String(fields.pid)}); Ctrl-C stops\n`;
  const tag = level === 'warn' || level === 'error' ? `${String(level)}: ` : '';
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${at} ${tag}${String(msg)}${rest ? ` (${rest})` : ''}\n`;
}
