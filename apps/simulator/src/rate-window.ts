/** Length of a rate window: OpenAI's limits are per minute. */
export const RATE_WINDOW_MS = 60_000;

/**
 * An exact sliding window over a log of (time, tokens) entries. An entry made at `t` counts at
 * `now` while `now - t < windowMs`. Times must be non-decreasing (use a monotonic clock).
 *
 * It also keeps the largest request count and token sum seen in any window so far. A window's
 * total only peaks right after an entry joins it, so checking at each `add` finds the exact
 * maximum over every possible window position, which is what lets a benchmark prove a limit was
 * never exceeded.
 */
export class SlidingWindowLog {
  readonly windowMs: number;
  private times: number[] = [];
  private tokens: number[] = [];
  /** Index of the oldest entry still in the window; entries before it are expired. */
  private head = 0;
  private tokensInWindow = 0;
  private maxRequestsSeen = 0;
  private maxTokensSeen = 0;

  constructor(windowMs: number = RATE_WINDOW_MS) {
    this.windowMs = windowMs;
  }

  /** Most requests ever inside one window. */
  get maxRequests(): number {
    return this.maxRequestsSeen;
  }

  /** Most tokens ever inside one window. */
  get maxTokens(): number {
    return this.maxTokensSeen;
  }

  requests(now: number): number {
    this.evict(now);
    return this.times.length - this.head;
  }

  tokenTotal(now: number): number {
    this.evict(now);
    return this.tokensInWindow;
  }

  add(now: number, tokenCount: number): void {
    this.evict(now);
    this.times.push(now);
    this.tokens.push(tokenCount);
    this.tokensInWindow += tokenCount;
    this.maxRequestsSeen = Math.max(this.maxRequestsSeen, this.times.length - this.head);
    this.maxTokensSeen = Math.max(this.maxTokensSeen, this.tokensInWindow);
  }

  /** Milliseconds from `now` until the window holds at most `limit` requests. */
  msUntilRequestsAtMost(limit: number, now: number): number {
    this.evict(now);
    const excess = this.times.length - this.head - Math.max(0, limit);
    if (excess <= 0) return 0;
    const lastToExpire = this.times[this.head + excess - 1] ?? now;
    return lastToExpire + this.windowMs - now;
  }

  /** Milliseconds from `now` until the window holds at most `limit` tokens. */
  msUntilTokensAtMost(limit: number, now: number): number {
    this.evict(now);
    let remaining = this.tokensInWindow;
    let index = this.head;
    while (remaining > limit && index < this.times.length) {
      remaining -= this.tokens[index] ?? 0;
      index += 1;
    }
    if (index === this.head) return 0;
    const lastToExpire = this.times[index - 1] ?? now;
    return lastToExpire + this.windowMs - now;
  }

  /** Milliseconds until the oldest entry leaves, i.e. until capacity next grows; 0 when empty. */
  msUntilOldestExpires(now: number): number {
    this.evict(now);
    const oldest = this.times[this.head];
    return oldest === undefined ? 0 : oldest + this.windowMs - now;
  }

  clear(): void {
    this.times = [];
    this.tokens = [];
    this.head = 0;
    this.tokensInWindow = 0;
    this.maxRequestsSeen = 0;
    this.maxTokensSeen = 0;
  }

  private evict(now: number): void {
    while (this.head < this.times.length) {
      const time = this.times[this.head];
      if (time === undefined || now - time < this.windowMs) break;
      this.tokensInWindow -= this.tokens[this.head] ?? 0;
      this.head += 1;
    }
    // Compact now and then, not on every eviction: shifting arrays per request would be O(n).
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.tokens = this.tokens.slice(this.head);
      this.head = 0;
    }
  }
}
