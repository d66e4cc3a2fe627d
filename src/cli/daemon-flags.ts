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
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];
