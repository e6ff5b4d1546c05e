import {
  preferredOrder,
  ProviderError,
  type AccountRoute,
  type BucketRoom,
  type CircuitChecker,
  type LimitRules,
  type ModelReference,
  type ProviderAccounts,
  type RateLimiter,
} from '@llmq/core';

export type AccountChoice =
  /** The provider has no accounts: the call goes through its own key and the model's bucket. */
  | { kind: 'none' }
  | { kind: 'chosen'; route: AccountRoute }
  /** Every account's circuit is open: the model is unavailable for `waitMs`. */
  | { kind: 'closed'; waitMs: number };

/**
 * Picks the provider account for a call, by the documented rule (README, "Provider accounts"):
 * only accounts whose circuit lets calls through; the one the job already holds a reservation
 * on; else, for a prompt with a cacheable prefix, the account that prefix hashes to while it has
 * room for the call; else the one with the most headroom (ties at random). Accounts the job
 * failed on this attempt come last.
 */
export class AccountChooser {
  readonly #accounts: ProviderAccounts;
  readonly #limiter: RateLimiter;
  readonly #rules: LimitRules;
  readonly #circuit: CircuitChecker;

  constructor(options: {
    accounts: ProviderAccounts;
    limiter: RateLimiter;
    rules: LimitRules;
    circuit: CircuitChecker;
  }) {
    this.#accounts = options.accounts;
    this.#limiter = options.limiter;
    this.#rules = options.rules;
    this.#circuit = options.circuit;
  }

  /** The accounts serving the model (none for a provider without accounts). */
  routes(reference: ModelReference): readonly AccountRoute[] {
    return this.#accounts.routes(reference);
  }

  async choose(
    reference: ModelReference,
    call: {
      tenant: string;
      tokens: number;
      /** The account holding the job's reservation: kept while its circuit allows. */
      keep?: string | undefined;
      avoid?: readonly string[] | undefined;
      prefix?: string | undefined;
    },
  ): Promise<AccountChoice> {
    if (!this.#accounts.has(reference.provider)) return { kind: 'none' };
    const routes = this.#accounts.routes(reference);
    if (routes.length === 0) {
      throw new ProviderError({
        provider: reference.provider,
        kind: 'invalid_request',
        message: `no account of provider "${reference.provider}" serves ${reference.modelId}`,
      });
    }
    const verdicts = await Promise.all(routes.map((route) => this.#circuit.check(route.circuit)));
    const open = routes.filter((_, index) => verdicts[index]?.allowed);
    if (open.length === 0) return { kind: 'closed', waitMs: Math.min(...verdicts.map((verdict) => verdict.waitMs)) };
    const kept = open.find((route) => route.account === call.keep);
    if (kept) return { kind: 'chosen', route: kept };
    const avoided = new Set(call.avoid ?? []);
    const fresh = open.filter((route) => !avoided.has(route.account));
    const candidates = fresh.length > 0 ? fresh : open;
    if (candidates.length === 1) return { kind: 'chosen', route: candidates[0] as AccountRoute };

    const rooms = await this.#limiter.headroom(
      candidates.map((route) => ({ model: route.bucket, limits: this.#rules.forModel(route.bucket, call.tenant) })),
    );
    const roomOf = new Map(candidates.map((route, index) => [route, rooms[index] as BucketRoom]));
    if (this.#accounts.sticky && call.prefix !== undefined) {
      const [preferred] = preferredOrder(candidates, call.prefix);
      const room = preferred && roomOf.get(preferred);
      if (preferred && room && room.open && room.requests >= 1 && room.tokens >= call.tokens) {
        return { kind: 'chosen', route: preferred };
      }
    }
    const best = Math.max(...rooms.map((room) => room.share));
    const tied = candidates.filter((route) => roomOf.get(route)?.share === best);
    return { kind: 'chosen', route: tied[Math.floor(Math.random() * tied.length)] as AccountRoute };
  }
}
