/**
 * WHEN for `winnow log --since`, `restore --at` and `squash --since`: a point in time a person
 * types. Pure: `now` is an argument, and local time is the process's time zone (what the person
 * reads on their clock).
 *
 * @example parseWhen('1h', now)               // an hour ago
 * @example parseWhen('10:30', now)            // today at 10:30, or yesterday's if that is still ahead
 * @example parseWhen('yesterday 17:00', now)  // yesterday at 17:00 local time
 * @example parseWhen('2026-12-01T10:30', now) // ISO 8601 (local time unless it names a zone)
 */
export function parseWhen(text: string, now: number): number | null {
  const t = text.trim().toLowerCase();
  if (!t) return null;
  if (t === 'now') return now;
  const ago = /^(.*?)(?:\s+ago)?$/.exec(t)![1]!.replace(/\s+/g, '');
  const d = agoMs(ago);
  if (d !== null) return now - d;
  const epoch = /^@(\d+)$/.exec(t);
  if (epoch) return Number(epoch[1]) * 1000;
  const day = /^(today|yesterday)(?:\s+(?:at\s+)?(.+))?$/.exec(t);
  if (day) {
    const base = new Date(now);
    if (day[1] === 'yesterday') base.setDate(base.getDate() - 1);
    const hm = day[2] === undefined ? { h: 0, m: 0, s: 0 } : clock(day[2]);
    if (!hm) return null;
    base.setHours(hm.h, hm.m, hm.s, 0);
    return base.getTime();
  }
  const hm = clock(t);
  if (hm) {
    const d = new Date(now);
    d.setHours(hm.h, hm.m, hm.s, 0);
    // "10:30" typed at 09:00 means the 10:30 that has been: yesterday's.
    if (d.getTime() > now) d.setDate(d.getDate() - 1);
    return d.getTime();
  }
  // ISO 8601: a date, or a date and time (T or a space), with or without a zone.
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (iso) {
    const [, y, mo, da, h = '0', mi = '0', s = '0', zone] = iso;
    if (zone) {
      const ms = Date.parse(`${y}-${mo}-${da}T${h.padStart(2, '0')}:${mi}:${s.padStart(2, '0')}${zone.toUpperCase()}`);
      return Number.isNaN(ms) ? null : ms;
    }
    const d = new Date(Number(y), Number(mo) - 1, Number(da), Number(h), Number(mi), Number(s), 0);
    // Date rolls 2026-02-31 over into March: that is a typo, not a date.
    if (d.getMonth() !== Number(mo) - 1 || d.getDate() !== Number(da) || Number(h) > 23 || Number(mi) > 59) return null;
    return d.getTime();
  }
  return null;
}

/** What `parseWhen` accepts, for error messages. */
export const WHEN_FORMS = '1h, 30m, 2d (ago), 10:30, yesterday 17:00, today, 2026-12-01, 2026-12-01T10:30, @EPOCH';

const UNITS: Record<string, number> = {
  s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

/** `1h30m`, `90s`, `2days` → milliseconds; null when it is not a span. */
function agoMs(t: string): number | null {
  const re = /(\d+(?:\.\d+)?)([a-z]+)/gy;
  let total = 0;
  let end = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t))) {
    const unit = UNITS[m[2]!];
    if (unit === undefined) return null;
    total += Number(m[1]) * unit;
    end = re.lastIndex;
  }
  return end > 0 && end === t.length ? Math.round(total) : null;
}

/** `17:00`, `9:05:30`, `5pm`, `5:30pm` → hours, minutes, seconds. */
function clock(t: string): { h: number; m: number; s: number } | null {
  const m = /^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(am|pm)?$/.exec(t.trim());
  if (!m || (m[2] === undefined && m[4] === undefined)) return null;
  let h = Number(m[1]);
  const mi = Number(m[2] ?? 0);
  const s = Number(m[3] ?? 0);
  if (m[4]) {
    if (h < 1 || h > 12) return null;
    h = (h % 12) + (m[4] === 'pm' ? 12 : 0);
  }
  if (h > 23 || mi > 59 || s > 59) return null;
  return { h, m: mi, s };
}
