/**
 * A git command started before its input is known: the spawn and git's start-up (~12 ms each on
 * the development machine, more under load) overlap the steps before it, and the step itself then
 * costs a pipe write. Only for commands that take nothing until they read stdin and do nothing
 * on an empty one: `mktree --batch`, `diff-tree --stdin`, `update-ref --stdin` (its refs are
 * locked when stdin ends, not before). Never for `update-index`, which locks the index at start.
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
