/**
 * The classify queue: events wait here, are coalesced (one event per path), and go through the
 * classifier in bounded chunks, one chunk at a time. Above one chunk (a storm) the queue is
 * reordered so what layer 1 does not block goes first (core/event.ts `committableFirst`).
 */
import type { Decision } from '../../core/decision.js';
import { coalesce, committableFirst, type WatchEvent } from '../../core/event.js';
import { builtinDecision, invalidUtf8Fact } from '../../core/classify/builtins.js';
import type { Logger } from '../../ports/index.js';
import type { Classifier } from './classifier.js';

/** Events classified per classifier call. */
export const CLASSIFY_CHUNK = 1_000;

export interface ClassifyQueueDeps {
  classifier: Pick<Classifier, 'classify' | 'blockedByRule'>;
  logger: Logger;
  /** Acts on a chunk's decisions (one per event, same order). */
  apply(events: WatchEvent[], decisions: Decision[]): Promise<void>;
  /** Classification threw: the paths are not lost, a rescan finds them again. */
  onFailed(): void;
  /** The queue ran empty. */
  onDrained(): void;
}

export class ClassifyQueue {
  private queue: WatchEvent[] = [];
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly deps: ClassifyQueueDeps) {}

  /** Queues `events`; resolves when the classify pass that takes them is over. */
  push(events: WatchEvent[]): Promise<void> {
    this.queue.push(...events);
    this.kick();
    return this.running ?? Promise.resolve();
  }

  /** True while events are queued or being classified. */
  busy(): boolean {
    return this.queue.length > 0 || this.running !== null;
  }

  /** Resolves when the pass running now is over. */
  current(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** No new pass starts; queued events stay (a rescan at the next start finds them). */
  stop(): void {
    this.stopped = true;
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.queue.length) this.kick();
      else this.deps.onDrained();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      // Coalesce everything queued, then classify in bounded chunks: a storm of 20k events is
      // never one 20k-path batch in memory at once, and what is queued behind it keeps moving.
      if (this.queue.length > CLASSIFY_CHUNK) {
        // A storm: what the rules do not block goes first (see committableFirst).
        this.queue = committableFirst(coalesce(this.queue), this.deps.classifier.blockedByRule);
      }
      const all = coalesce(this.queue.splice(0, CLASSIFY_CHUNK));
      // Names that are not valid UTF-8 cannot be named to git: held back before any I/O.
      const unnamable: WatchEvent[] = [];
      const unnamableDecisions: Decision[] = [];
      const batch: WatchEvent[] = [];
      for (const e of all) {
        const f = invalidUtf8Fact(e.path);
        if (!f) batch.push(e);
        else {
          unnamable.push(e);
          unnamableDecisions.push(builtinDecision(e.path, f));
        }
      }
      if (unnamable.length) await this.deps.apply(unnamable, unnamableDecisions);
      if (!batch.length) continue;
      let decisions: Decision[];
      try {
        decisions = await this.deps.classifier.classify(batch);
      } catch (e) {
        this.deps.logger.log('error', 'classification failed; a rescan will retry these paths', {
          error: (e as Error).message,
          paths: batch.length,
        });
        this.deps.onFailed();
        continue;
      }
      await this.deps.apply(batch, decisions);
      // Layer-1 answers resolve without I/O, so a storm's chunks would run back to back as
      // microtasks: let timers and I/O in between (the settle timer, the committer's git
      // children), or a person's due change waits for the whole storm to be classified.
      if (this.queue.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
