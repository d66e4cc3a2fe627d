#!/usr/bin/env -S node --no-memory-reducer --max-semi-space-size=1 --optimize-for-size
// Thin bin: everything lives in the compiled CLI (STYLE.md habit 10). The shebang's flags are
// the daemon's (src/cli/daemon-flags.ts says why).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    // main() turns every expected failure into a message and an exit code; this is the last guard.
    process.stderr.write(`winnow: internal error: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
