import {
  DEFAULT_RANK,
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
  /** With fair share: the call's hold in the model's fair queue (its job's id; '' for none). */
  callId?: string;
}

export type GateDecision =
  | { admitted: true; ticket: LimiterTicket | undefined }
  | {
      admitted: false;
      ticket: LimiterTicket;
      /**
       * rate_limit: come back at `reservation`, in `waitMs`. fair_share: the call waits in the
       * model's fair queue and its job is woken when granted, no sooner than in `waitMs`.
       */
      reason: 'rate_limit' | 'fair_share';
      waitMs: number;
      reservation: number;
    };

/** Wakes the parked jobs whose calls were granted slots (promotes them from delayed). */
export type WakeJobs = (jobIds: string[]) => void;

/** How long an admitted call may hold its fair-share slot past its time limit before it lapses. */
const LEASE_MARGIN_MS = 60_000;

/**
 * The worker's side of the limiter: admission before a call, settlement after it. Models
 * without a configured limit pass straight through without touching Redis.
 */
export class LimiterGate {
  readonly #limiter: RateLimiter;
  readonly #rules: LimitRules;
  readonly #wake: WakeJobs;
  readonly #queuedOn: ((model: string) => void) | undefined;

  constructor(options: {
    limiter: RateLimiter;
    rules: LimitRules;
    /** Wakes jobs granted their fair turn. Default: none (they come back at their next recheck). */
    wake?: WakeJobs;
    /** Told of each model a call queued on, so the dispatcher ticks it. */
    queuedOn?: (model: string) => void;
  }) {
    this.#limiter = options.limiter;
    this.#rules = options.rules;
    this.#wake = options.wake ?? (() => undefined);
    this.#queuedOn = options.queuedOn;
  }

  async admit(options: {
    model: string;
    tenant: string;
    requests: number;
    tokens: number;
    reservation: number | undefined;
    /**
     * With fair share: the call's job (its id names the call's hold; absent: a call with no job
     * to park, admitted now or refused), its rank among the tenant's calls and its time limit.
     */
    job?: { id: string; rank: number; timeoutMs: number };
    /** When the job was submitted, for the queue-wait metric of its first call. */
    queuedSince?: number;
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
    if (limits.fair) return this.#admitFairly(ticket, options.job);
    const admission = await this.#limiter.acquire({ ...ticket, reservation: options.reservation });
    if (admission.admitted) return { admitted: true, ticket };
    return {
      admitted: false,
      ticket,
      reason: 'rate_limit',
      waitMs: admission.waitMs,
      reservation: admission.reservation ?? 0,
    };
  }

  async #admitFairly(
    ticket: LimiterTicket,
    job: { id: string; rank: number; timeoutMs: number } | undefined,
  ): Promise<GateDecision> {
    const fairTicket = { ...ticket, callId: job?.id ?? '' };
    const admission = await this.#limiter.fairAcquire({
      ...fairTicket,
      callId: fairTicket.callId,
      rank: job?.rank ?? DEFAULT_RANK,
      leaseMs: (job?.timeoutMs ?? 0) + LEASE_MARGIN_MS,
    });
    this.#woken(admission.granted);
    switch (admission.status) {
      case 'admitted':
        // Without a hold the call ends as any limited call does: its settlement is an adjust.
        return { admitted: true, ticket: admission.held ? fairTicket : ticket };
      case 'scheduled':
        return {
          admitted: false,
          ticket: fairTicket,
          reason: 'rate_limit',
          waitMs: admission.waitMs,
          reservation: admission.reservation ?? 0,
        };
      case 'refused':
        // A call with no job: nothing was taken, so there is nothing to give back.
        return { admitted: false, ticket: { ...ticket, callId: '' }, reason: 'rate_limit', waitMs: 0, reservation: 0 };
      default:
        this.#queuedOn?.(ticket.model);
        return { admitted: false, ticket: fairTicket, reason: 'fair_share', waitMs: admission.waitMs, reservation: 0 };
    }
  }

  #woken(granted: string[]): void {
    if (granted.length > 0) this.#wake(granted);
  }

  /** Whether a parked call was granted its turn meanwhile (so its job wakes itself). */
  async granted(ticket: LimiterTicket): Promise<boolean> {
    if (!ticket.callId) return false;
    return this.#limiter.fairHolds(ticket.model, ticket.callId);
  }

  /** Gives back a reservation that will never be used (the job ended while it waited). */
  async release(ticket: LimiterTicket): Promise<void> {
    if (ticket.callId !== undefined) {
      this.#woken(await this.#limiter.fairRelease({ ...ticket, callId: ticket.callId, refund: true }));
      return;
    }
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
    const adjustment = {
      ...ticket,
      // A failed call's tokens stay taken: the provider may have counted them.
      tokenCorrection: outcome.usedTokens === undefined ? 0 : outcome.usedTokens - ticket.tokens,
      blockForMs: rateLimited ? (outcome.error?.retryAfterMs ?? 1_000) : 0,
      remainingRequests: remaining.requests,
      remainingTokens: remaining.tokens,
    };
    // With fair share, the call's hold ends in the same round trip: its slot goes to the next.
    if (ticket.callId) this.#woken(await this.#limiter.settleFairly({ ...adjustment, callId: ticket.callId }));
    else await this.#limiter.adjust(adjustment);
  }
}
