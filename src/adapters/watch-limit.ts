/** The watchers' shared failure: the kernel's inotify limits, explained with the sysctl to raise. */

/** An inotify watch-limit failure, with the sysctl to raise in the message (the daemon goes to rescans). */
export class WatchLimitError extends Error {
  override name = 'WatchLimitError';
}

/** `err` as a WatchLimitError when it is one of the kernel's inotify limits; otherwise unchanged. */
export function explainWatchError(err: Error): Error {
  const msg = err.message ?? String(err);
  if (/ENOSPC|No space left on device|inotify_add_watch|too many open files|EMFILE|file watchers/i.test(msg)) {
    return new WatchLimitError(
      `the kernel's inotify limit was reached (${msg.trim()}). winnow falls back to rescans with \`git status\`; ` +
        'raise the limit with `sudo sysctl fs.inotify.max_user_watches=524288` (and fs.inotify.max_user_instances=512), ' +
        'persisted in /etc/sysctl.d/90-winnow.conf.',
    );
  }
  return err;
}
