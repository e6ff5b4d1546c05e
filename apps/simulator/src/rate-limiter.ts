import type { SimulatedFailure } from './provider-endpoint.js';
import { type LimitState, rateLimitHeaders, retryAfterHeaders } from './rate-limit-headers.js';
import { RATE_WINDOW_MS, SlidingWindowLog } from './rate-window.js';

/** A per-minute limit; either dimension may be left out. */
export interface RateLimit {
  /** Requests per sliding 60 s window. */
  rpm?: number | undefined;
  /** Tokens (prompt + actual completion) per sliding 60 s window. */
  tpm?: number | undefined;
}

/**
 * Limits by model name. The key "*" is ONE window shared by all models together (an account-wide
 * cap), checked in addition to the model's own entry.
 */
export type RateLimits = Readonly<Record<string, RateLimit>>;

export const GLOBAL_LIMIT_KEY = '*';

/**
 * The window an organisation's accounts share, as the statistics name it ("org:org-a"). Real
 * providers count limits per organisation, so every key of one org draws on this one window.
 */
export function orgWindowKey(org: string): string {
  return `org:${org}`;
}

/** Limits reported in the headers of an injected 429 when none are configured. */
const REPORTED_DEFAULTS = { rpm: 10_000, tpm: 10_000_000 };

type RateLimitFailure = Extract<SimulatedFailure, { kind: 'rate_limit' }>;

export type AdmissionDecision =
  | { admitted: true; headers: Record<string, string> }
  | { admitted: false; failure: RateLimitFailure; headers: Record<string, string> };

/** Rate-window figures of one model (or of "*", all models together). */
export interface WindowStats {
  /** Most admitted requests / tokens in any 60 s window so far: never above the limit. */
  maxRequests: number;
  maxTokens: number;
  /** Same over every request that reached the limiter, admitted or refused: the offered load. */
  maxOfferedRequests: number;
  maxOfferedTokens: number;
  /** Admitted requests / tokens in the window ending now. */
  currentRequests: number;
  currentTokens: number;
}

/** One window a request is checked against and charged to, with the limit it has (if any). */
interface ChargedWindow {
  key: string;
  limit: RateLimit | undefined;
  /** Set for an organisation's window: rate-limit messages name the organisation. */
  organization?: string;
}

/**
 * Strict sliding-window limiter. A request costs its prompt plus actual completion tokens (known
 * up front, since replies are deterministic). A refused request is not recorded, so it costs
 * nothing. Every model gets windows whether limited or not, for the statistics; so does every
 * organisation a request names, under `orgWindowKey(org)`.
 */
export class RateLimiter {
  private limitsByKey: RateLimits;
  private readonly orgLimits: RateLimits;
  private readonly windowMs: number;
  private readonly admitted = new Map<string, SlidingWindowLog>();
  private readonly offered = new Map<string, SlidingWindowLog>();

  /** `orgLimits`: limits by organisation, shared by all its keys and checked on top of the others. */
  constructor(limits: RateLimits = {}, windowMs: number = RATE_WINDOW_MS, orgLimits: RateLimits = {}) {
    this.limitsByKey = limits;
    this.windowMs = windowMs;
    this.orgLimits = orgLimits;
  }

  get limits(): RateLimits {
    return this.limitsByKey;
  }

  setLimits(limits: RateLimits): void {
    this.limitsByKey = limits;
  }

  /**
   * Checks the model's window, the "*" window and, when `org` is given, the organisation's window;
   * charges all of them if every one has room, none if any is full.
   */
  admit(model: string, tokens: number, now: number, org?: string): AdmissionDecision {
    const windows = this.windowsFor(model, org);
    for (const { key } of windows) this.window(this.offered, key).add(now, tokens);
    for (const charged of windows) {
      const failure = this.check(charged, model, tokens, now);
      if (failure !== undefined) {
        return {
          admitted: false,
          failure,
          headers: { ...this.headersFor(model, now, org), ...retryAfterHeaders(failure.retryAfterMs) },
        };
      }
    }
    for (const { key } of windows) this.window(this.admitted, key).add(now, tokens);
    return { admitted: true, headers: this.headersFor(model, now, org) };
  }

  /**
   * An injected 429: the organisation's request limit when `org` has limits, else the model's
   * (or a plausible default when none is set), reported as used up until `resetMs` from now.
   */
  injectedRateLimit(
    model: string,
    now: number,
    resetMs: number,
    org?: string,
  ): { failure: RateLimitFailure; headers: Record<string, string> } {
    const orgLimit = org === undefined ? undefined : this.orgLimits[org];
    const reportsOrg = org !== undefined && (orgLimit?.rpm !== undefined || orgLimit?.tpm !== undefined);
    const limit =
      (reportsOrg ? orgLimit : undefined) ?? this.limitsByKey[model] ?? this.limitsByKey[GLOBAL_LIMIT_KEY] ?? {};
    const requestLimit = limit.rpm ?? REPORTED_DEFAULTS.rpm;
    const tokenLimit = limit.tpm ?? REPORTED_DEFAULTS.tpm;
    const window = this.window(this.admitted, reportsOrg ? orgWindowKey(org) : model);
    return {
      failure: {
        kind: 'rate_limit',
        model,
        ...(reportsOrg ? { organization: org } : {}),
        limitType: 'requests',
        limit: requestLimit,
        used: requestLimit,
        requested: 1,
        retryAfterMs: resetMs,
        tooLarge: false,
      },
      headers: rateLimitHeaders({
        requests: { limit: requestLimit, remaining: 0, resetMs },
        tokens: {
          limit: tokenLimit,
          remaining: tokenLimit - window.tokenTotal(now),
          resetMs: window.msUntilOldestExpires(now),
        },
      }),
    };
  }

  statistics(now: number): Record<string, WindowStats> {
    const result: Record<string, WindowStats> = {};
    for (const [key, offered] of this.offered) {
      const admitted = this.window(this.admitted, key);
      result[key] = {
        maxRequests: admitted.maxRequests,
        maxTokens: admitted.maxTokens,
        maxOfferedRequests: offered.maxRequests,
        maxOfferedTokens: offered.maxTokens,
        currentRequests: admitted.requests(now),
        currentTokens: admitted.tokenTotal(now),
      };
    }
    return result;
  }

  /** Forgets all windows and maxima; keeps the limits. */
  clear(): void {
    this.admitted.clear();
    this.offered.clear();
  }

  private window(windows: Map<string, SlidingWindowLog>, key: string): SlidingWindowLog {
    let window = windows.get(key);
    if (window === undefined) {
      window = new SlidingWindowLog(this.windowMs);
      windows.set(key, window);
    }
    return window;
  }

  private windowsFor(model: string, org: string | undefined): ChargedWindow[] {
    const windows: ChargedWindow[] = [
      { key: model, limit: this.limitsByKey[model] },
      { key: GLOBAL_LIMIT_KEY, limit: this.limitsByKey[GLOBAL_LIMIT_KEY] },
    ];
    if (org !== undefined) windows.push({ key: orgWindowKey(org), limit: this.orgLimits[org], organization: org });
    return windows;
  }

  private check(
    { key, limit, organization }: ChargedWindow,
    model: string,
    tokens: number,
    now: number,
  ): RateLimitFailure | undefined {
    if (limit === undefined) return undefined;
    const window = this.window(this.admitted, key);
    const named = organization === undefined ? {} : { organization };
    if (limit.rpm !== undefined) {
      const used = window.requests(now);
      if (used + 1 > limit.rpm) {
        return {
          kind: 'rate_limit',
          model,
          ...named,
          limitType: 'requests',
          limit: limit.rpm,
          used,
          requested: 1,
          retryAfterMs: window.msUntilRequestsAtMost(limit.rpm - 1, now),
          tooLarge: false,
        };
      }
    }
    if (limit.tpm !== undefined) {
      const used = window.tokenTotal(now);
      const tooLarge = tokens > limit.tpm;
      if (tooLarge || used + tokens > limit.tpm) {
        return {
          kind: 'rate_limit',
          model,
          ...named,
          limitType: 'tokens',
          limit: limit.tpm,
          used,
          requested: tokens,
          retryAfterMs: tooLarge ? undefined : window.msUntilTokensAtMost(limit.tpm - tokens, now),
          tooLarge,
        };
      }
    }
    return undefined;
  }

  /**
   * Headers for each dimension from the organisation's limit when the request names an org that
   * has one, else from the model's own limit, else from the global one.
   */
  private headersFor(model: string, now: number, org: string | undefined): Record<string, string> {
    const state = (dimension: 'rpm' | 'tpm'): LimitState | undefined => {
      const orgLimit = org === undefined ? undefined : this.orgLimits[org]?.[dimension];
      const modelKey = this.limitsByKey[model]?.[dimension] !== undefined ? model : GLOBAL_LIMIT_KEY;
      const key = org !== undefined && orgLimit !== undefined ? orgWindowKey(org) : modelKey;
      const limit = orgLimit ?? this.limitsByKey[modelKey]?.[dimension];
      if (limit === undefined) return undefined;
      const window = this.window(this.admitted, key);
      const used = dimension === 'rpm' ? window.requests(now) : window.tokenTotal(now);
      return { limit, remaining: limit - used, resetMs: window.msUntilOldestExpires(now) };
    };
    return rateLimitHeaders({ requests: state('rpm'), tokens: state('tpm') });
  }
}
