import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/**
 * The first executable named `name` on PATH, then in `fallbacks` (sbin directories are often off
 * an ordinary user's PATH), or `explicit` alone when given; null when there is none.
 */
export function findExecutable(name: string, fallbacks: string[], explicit?: string): string | null {
  const candidates = explicit ? [explicit] : [...(process.env.PATH ?? '').split(':').filter(Boolean).map((d) => join(d, name)), ...fallbacks];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}
