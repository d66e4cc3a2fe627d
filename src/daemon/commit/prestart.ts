/**
 * A git command started before its input is known, so that git's start-up overlaps the step before
 * it and the step itself costs a pipe write: the compare-and-swap `update-ref --stdin`, started
 * beside `commit-tree` (its refs are locked when stdin ends, not before; an empty stdin does
 * nothing). Never for `update-index`, which locks the index at start. The spawn itself still
 * costs the event loop its time: the commands a commit runs per tree are long-lived instead
 * (adapters/git-session.ts). Its timeout counts from when the input is given (git-spawn.ts).
 */
import type { Git, GitStep } from '../../ports/index.js';

export interface Prestarted {
  /** Writes `input` as the whole of stdin and resolves with what the command printed. */
  run(input: string | Buffer): Promise<{ stdout: string; stderr: string }>;
  /** Not needed after all: stdin ends empty and the command exits without doing anything. */
  cancel(): void;
}

export function prestart(git: Git, step: Omit<GitStep, 'stdin'>): Prestarted {
  let feed!: (b: string | Buffer) => void;
  const input = new Promise<string | Buffer>((resolve) => (feed = resolve));
  const done = git.run([{ ...step, stdin: input }]).then((r) => r[0]!);
  // A cancelled command's outcome is nobody's business; a used one's is awaited by `run`.
  done.catch(() => undefined);
  return {
    run(b) {
      feed(b);
      return done;
    },
    cancel() {
      feed('');
    },
  };
}
