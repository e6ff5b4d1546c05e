import type { CircuitBreaker, CircuitChecker, CircuitOutcome, CircuitState, Logger } from '@llmq/core';

export interface CircuitGateOptions {
  breaker: CircuitBreaker;
  logger: Logger;
  /** How long a "closed" verdict is trusted without asking Redis, ms. Default 500. */
  closedTtlMs?: number;
  /** How often batched successes are reported, ms. Default 1,000. */
  flushMs?: number;
}

/**
 * The shared circuit breaker, cheap on the hot path: while a model's circuit is closed, checks are
 * answered from a verdict at most `closedTtlMs` old and successes are reported in batches, so a
 * healthy model costs no Redis round trip per call. Failures, probes and open circuits always go
 * to Redis at once; the price is that this worker may send calls for up to `closedTtlMs` after
 * another worker opened the circuit.
 */
export class CircuitGate implements CircuitChecker {
  readonly #breaker: CircuitBreaker;
  readonly #logger: Logger;
  readonly #closedTtlMs: number;
  readonly #closedUntil = new Map<string, number>();
  readonly #pendingSuccesses = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(options: CircuitGateOptions) {
    this.#breaker = options.breaker;
    this.#logger = options.logger;
    this.#closedTtlMs = options.closedTtlMs ?? 500;
    this.#timer = setInterval(() => void this.flush(), options.flushMs ?? 1_000);
    this.#timer.unref();
  }

  async check(model: string): Promise<{ allowed: boolean; state: CircuitState; waitMs: number }> {
    if ((this.#closedUntil.get(model) ?? 0) > Date.now()) return { allowed: true, state: 'closed', waitMs: 0 };
    const verdict = await this.#breaker.check(model);
    if (verdict.state === 'closed') this.#closedUntil.set(model, Date.now() + this.#closedTtlMs);
    else this.#closedUntil.delete(model);
    return verdict;
  }

  async record(model: string, outcome: CircuitOutcome): Promise<CircuitState | undefined> {
    if (outcome === 'success' && (this.#closedUntil.get(model) ?? 0) > 0) {
      this.#pendingSuccesses.set(model, (this.#pendingSuccesses.get(model) ?? 0) + 1);
      return undefined;
    }
    // A failure, or a success that may be a half-open probe's verdict: now.
    this.#closedUntil.delete(model);
    return this.#breaker.record(model, outcome);
  }

  /** Reports the batched successes; called on a timer and at shutdown. */
  async flush(): Promise<void> {
    const batches = [...this.#pendingSuccesses];
    this.#pendingSuccesses.clear();
    await Promise.all(
      batches.map(([model, calls]) =>
        this.#breaker
          .record(model, 'success', calls)
          .catch((error: unknown) => this.#logger.warn({ err: error }, 'circuit flush failed')),
      ),
    );
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
