import type { Clock, Scheduler } from '../ports/index.js';

export const systemClock: Clock & Scheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // The daemon's life is held by the watcher and signal handlers, never by a pending timer.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
