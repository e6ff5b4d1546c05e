import {
  parseRemainingQuota,
  type ProviderError,
  type LimitRules,
  type ModelLimits,
  type RateLimiter,
} from '@llmq/core';

/** One call's place under the limiter: what it reserved, so it can be settled after the call. */
export interface LimiterTicket {
  model: string;
  tenant: string;
  limits: ModelLimits;
  requests: number;
  tokens: number;
}

export type GateDecision =
  | { admitted: true; ticket: LimiterTicket | undefined }
  | { admitted: false; ticket: LimiterTicket; waitMs: number; reservation: number };

/**
 * The worker's side of the limiter: admission before a call, settlement after it. Models
 * without a configured limit pass straight through without touching Redis.
 */
export class LimiterGate {
  readonly #limiter: RateLimiter;
  readonly #rules: LimitRules;

  constructor(options: { limiter: RateLimiter; rules: LimitRules }) {
    this.#limiter = options.limiter;
    this.#rules = options.rules;
  }

  async admit(options: {
    model: string;
    tenant: string;
    requests: number;
    tokens: number;
    reservation: number | undefined;
  }): Promise<GateDecision> {
    const limits = this.#rules.forModel(options.model, options.tenant);
    if (limits === undefined) return { admitted: true, ticket: undefined };
    const ticket: LimiterTicket = {
      model: options.model,
      tenant: options.tenant,
      limits,
      requests: options.requests,
      tokens: options.tokens,
    };
    const admission = await this.#limiter.acquire({ ...ticket, reservation: options.reservation });
    if (admission.admitted) return { admitted: true, ticket };
    return { admitted: false, ticket, waitMs: admission.waitMs, reservation: admission.reservation ?? 0 };
  }

  /** Gives back a reservation that will never be used (the job ended while it waited). */
  async release(ticket: LimiterTicket): Promise<void> {
    await this.#limiter.adjust({ ...ticket, requestCorrection: -ticket.requests, tokenCorrection: -ticket.tokens });
  }

  /**
   * After the call: the reservation is settled against the reported usage, the provider's
   * remaining counters lower the shared bucket, and a 429 blocks every worker for its wait.
   */
  async settle(
    ticket: LimiterTicket,
    outcome: { usedTokens?: number; headers?: Headers; error?: ProviderError },
  ): Promise<void> {
    const remaining = outcome.headers ? parseRemainingQuota(outcome.headers) : {};
    const rateLimited = outcome.error?.kind === 'rate_limit';
    await this.#limiter.adjust({
      ...ticket,
      // A failed call's tokens stay taken: the provider may have counted them.
      tokenCorrection: outcome.usedTokens === undefined ? 0 : outcome.usedTokens - ticket.tokens,
      blockForMs: rateLimited ? (outcome.error?.retryAfterMs ?? 1_000) : 0,
      remainingRequests: remaining.requests,
      remainingTokens: remaining.tokens,
    });
  }
}
