/**
 * lru-cache options that bound a cache to `entries` without allocating for them up front.
 *
 * With `max` set, lru-cache allocates its key, value and link arrays for `max` entries when the
 * cache is made: forkstat's 65,536-entry lineage map held ~1.4 MB before its first entry, and the
 * daemon's bounded maps ~1.5 MB of heap between them on a quiet daemon. With `maxSize` and a size
 * of 1 per entry the same bound holds, and the arrays grow with the entries.
 *
 * @example
 *   const seen = new LRUCache<number, string>(growingBound(4096));
 *   // at most 4096 entries, the least recently used evicted first; nothing allocated for them yet
 */
export function growingBound(entries: number): { maxSize: number; sizeCalculation: () => number } {
  return { maxSize: entries, sizeCalculation: () => 1 };
}
