/**
 * `onIdle()` (STYLE.md habit 9): waiters resolve when the whole pipeline is idle. A stage that
 * may have gone idle calls `check()`; the committer's last pass is awaited before the answer.
 */
export class IdleWaiters {
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly isIdle: () => boolean,
    /** Resolves when the committer's pass in flight (if any) has ended. */
    private readonly committerIdle: () => Promise<void>,
  ) {}

  check(): void {
    if (!this.waiters.size || !this.isIdle()) return;
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  async wait(): Promise<void> {
    for (;;) {
      if (this.isIdle()) {
        await this.committerIdle();
        if (this.isIdle()) return;
      }
      await new Promise<void>((r) => this.waiters.add(r));
    }
  }
}
