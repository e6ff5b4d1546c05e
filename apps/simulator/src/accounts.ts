import { z } from 'zod';
import { PromptCache } from './prompt-cache.js';
import type { PreparedCall } from './provider-endpoint.js';
import type { RateLimit, RateLimits } from './rate-limiter.js';
import { encodeText } from './token-counter.js';

/**
 * Provider accounts: teams run keys of several organisations, and tests must see what real
 * providers do with them. Keys of one organisation share its rate window; capacity adds up across
 * organisations; the prompt cache is per key.
 */

/** One account: the API key a request carries and the organisation it belongs to. */
export const accountSchema = z.strictObject({
  key: z.string().min(1),
  org: z.string().min(1),
  /** The organisation's requests per minute; entries of one org that give it must agree. */
  rpm: z.int().min(1).optional(),
  /** The organisation's tokens per minute; entries of one org that give it must agree. */
  tpm: z.int().min(1).optional(),
});
export type Account = z.infer<typeof accountSchema>;

/** The first conflict in a list of accounts, described; undefined when there is none. */
function accountConflict(accounts: readonly Account[]): string | undefined {
  const orgByKey = new Map<string, string>();
  const limits = new Map<string, RateLimit>();
  for (const account of accounts) {
    if (orgByKey.has(account.key)) return `the key of org "${account.org}" is listed twice`;
    orgByKey.set(account.key, account.org);
    const known = limits.get(account.org) ?? {};
    for (const dimension of ['rpm', 'tpm'] as const) {
      const given = account[dimension];
      const earlier = known[dimension];
      if (given !== undefined && earlier !== undefined && given !== earlier) {
        return `accounts of org "${account.org}" give different ${dimension} limits (${earlier} and ${given})`;
      }
    }
    limits.set(account.org, { rpm: known.rpm ?? account.rpm, tpm: known.tpm ?? account.tpm });
  }
  return undefined;
}

/** A non-empty list of accounts, each key once, the limits of each org agreeing. */
export const accountListSchema = z
  .array(accountSchema)
  .min(1)
  .superRefine((accounts, context) => {
    const conflict = accountConflict(accounts);
    if (conflict !== undefined) context.addIssue({ code: 'custom', message: conflict });
  });

/** Each organisation's limits, merged from its accounts; orgs without any limit are left out. */
export function orgLimitsOf(accounts: readonly Account[]): RateLimits {
  const limits: Record<string, RateLimit> = {};
  for (const { org, rpm, tpm } of accounts) {
    if (rpm === undefined && tpm === undefined) continue;
    const known = limits[org] ?? {};
    limits[org] = { rpm: known.rpm ?? rpm, tpm: known.tpm ?? tpm };
  }
  return limits;
}

/** What `GET /_sim/stats` reports for one key under `accounts`. */
export interface AccountStats {
  org: string;
  /** Requests that carried the key and passed authentication, whatever their answer. */
  requests: number;
  /** 429 answers: limiter refusals and injected ones. */
  rateLimited: number;
  /** Prompt tokens of successful answers, cached ones included. */
  promptTokens: number;
  /** Of those, the tokens read from the key's prompt cache. */
  cachedPromptTokens: number;
}

/** The accounts' organisations, per-key counters and prompt caches; empty when none are set. */
export class AccountRegistry {
  private readonly orgByKey: ReadonlyMap<string, string>;
  private readonly promptCache = new PromptCache();
  private counters = new Map<string, AccountStats>();

  constructor(accounts: readonly Account[]) {
    this.orgByKey = new Map(accounts.map((account) => [account.key, account.org]));
  }

  /** The organisation of `key`; undefined for a key that is no account (or when none are set). */
  orgOf(key: string): string | undefined {
    return this.orgByKey.get(key);
  }

  /**
   * Cached prompt tokens of an admitted call on `key`, which the key's prompt cache then
   * remembers. 0 for keys that are no account: without accounts the prompt cache is off.
   */
  cachedPromptTokens(key: string, call: PreparedCall, now: number): number {
    if (!this.orgByKey.has(key) || call.promptText === undefined) return 0;
    return this.promptCache.use(key, encodeText(call.promptText()), call.promptTokens, now);
  }

  /** Counts one answered request on `key`; requests on keys that are no account are ignored. */
  record(key: string, outcome: { status: number; promptTokens: number; cachedPromptTokens: number }): void {
    const org = this.orgByKey.get(key);
    if (org === undefined) return;
    const counters = this.counters.get(key) ?? {
      org,
      requests: 0,
      rateLimited: 0,
      promptTokens: 0,
      cachedPromptTokens: 0,
    };
    counters.requests += 1;
    if (outcome.status === 429) counters.rateLimited += 1;
    if (outcome.status >= 200 && outcome.status < 300) {
      counters.promptTokens += outcome.promptTokens;
      counters.cachedPromptTokens += outcome.cachedPromptTokens;
    }
    this.counters.set(key, counters);
  }

  /** Counters of every account by key, zeros included. */
  snapshot(): Record<string, AccountStats> {
    const result: Record<string, AccountStats> = {};
    for (const [key, org] of this.orgByKey) {
      const counters = this.counters.get(key);
      result[key] =
        counters === undefined
          ? { org, requests: 0, rateLimited: 0, promptTokens: 0, cachedPromptTokens: 0 }
          : { ...counters };
    }
    return result;
  }

  /** Clears the counters and every prompt cache; the accounts stay. */
  reset(): void {
    this.counters = new Map();
    this.promptCache.clear();
  }
}
