/**
 * The daemon's start-up: what must come before what, and what runs meanwhile. At 100k files the
 * watcher's crawl (~1.5 s) and the catch-up's `git status` (~1 s) are most of it; fatrace and
 * forkstat each wait for their tool's first event (~100–450 ms under load). One after the other,
 * the rest added ~0.5–0.8 s to the time to `ready`.
 *
 *   1. daemon.lock and the persisted state  ‖  the writer evidence (fatrace, forkstat)
 *   2. the committer and the syncer (the lock is held)
 *   3. the watcher's subscribe  ‖  layer 2's first look, then restored changes judged again
 *   4. the catch-up: the watcher snapshot's changes and `git status`
 *
 * The evidence is up before the watcher is subscribed, so every write the watcher reports was
 * traced. The watcher's events wait for step 3's other half: the first change needs layer 2's
 * baseline, and nothing may arm the settle timer before the recheck (a restored change the rules
 * now block never falls due).
 */
import type { WatchEvent } from '../../core/event.js';

export interface StartSteps<S> {
  /** Takes daemon.lock and reads the persisted state (null: dry run, no lock). */
  openState(): Promise<S | null>;
  /** Starts fatrace and forkstat; rejects when a trace that must run cannot. */
  startEvidence(): Promise<void>;
  /** Lets daemon.lock go (start-up failed after taking it). */
  abandonState(): Promise<void>;
  /** Starts the committer and the syncer. */
  openCommitting(state: S): Promise<void>;
  /** Subscribes the watcher; `onEvents` receives its batches. */
  subscribe(onEvents: (events: WatchEvent[]) => void): Promise<void>;
  /** Layer 2's first look at the autonomous processes, then pending.json judged again. */
  primeAndRecheck(): Promise<void>;
  /** Where the watcher's batches go once step 3 is done. */
  ingest(events: WatchEvent[]): void;
  /** What changed while winnow was down (after subscribing: no change falls between the two). */
  catchUp(): Promise<void>;
}

export async function startUp<S>(steps: StartSteps<S>): Promise<void> {
  const [opened, evidence] = await Promise.allSettled([steps.openState(), steps.startEvidence()]);
  if (opened.status === 'rejected') throw opened.reason;
  if (evidence.status === 'rejected') {
    if (opened.value !== null) await steps.abandonState();
    throw evidence.reason;
  }
  if (opened.value !== null) await steps.openCommitting(opened.value);
  let held: WatchEvent[][] | null = [];
  await Promise.all([steps.subscribe((events) => (held ? held.push(events) : steps.ingest(events))), steps.primeAndRecheck()]);
  for (const events of held) steps.ingest(events);
  held = null;
  await steps.catchUp();
}
