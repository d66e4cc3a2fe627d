/**
 * V8 flags the daemon runs with. `bin/winnow.js`'s shebang carries the same list (a test keeps
 * them equal), so `winnow start` run as a command, by systemd or by npx gets them; `start
 * --daemon` and the bench pass them to the node they spawn.
 *
 * `--no-memory-reducer`: V8's memory reducer runs two compacting GCs ~8 s after start-up's last
 * full GC, which were most of a quiet daemon's CPU (0.3 of 0.35–0.4% at 100k files, bench
 * figures in docs/benchmarks.md). Without it the heap keeps the pages start-up committed (~6 MB
 * of RSS at 100k files; the peak, in the first commits, moves by 0–3 MB). It cannot be set at
 * run time: V8 reads it when the heap is made, and NODE_OPTIONS refuses it.
 *
 * `--max-semi-space-size=1` and `--optimize-for-size`: the young generation stays at 1 MB a half
 * instead of growing to 16, and V8 favours size when it grows the heap. Peak RSS at 10k files
 * 68–69 → 62.5–62.8 MB, in the event storm 104–115 → 81–83 MB, with the storm's p95, the layer
 * micro-benchmarks and ready unchanged within their spread (docs/benchmarks.md, 2026-12-03).
 * Like the first, they are read when the heap is made. `--no-opt` was measured too and left out:
 * 5–9 MB less, but layer 1 and 3 ran 5–20 times slower (4 µs a path, 8 ms a 100 KB JSON).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--no-memory-reducer', '--max-semi-space-size=1', '--optimize-for-size'];
