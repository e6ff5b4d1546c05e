import picomatch from 'picomatch';
import { ProviderAccounts, splitBucketName } from '../accounts/provider-accounts.js';
import type { LlmqConfig } from '../config/llmq-config-schema.js';
import { parseModelName } from '../models/model-name.js';

/** One bucket pair's parameters, as the Lua scripts take them. */
export interface BucketParameters {
  /** Request tokens the bucket holds at most; 0 = requests unlimited. */
  requestCapacity: number;
  /** Request tokens added per millisecond. */
  requestRate: number;
  /** Token capacity; 0 = tokens unlimited. */
  tokenCapacity: number;
  tokenRate: number;
}

/**
 * How late a parked call may come back and still use its reservation, ms. The refill rate
 * leaves room for it: a call up to this late cannot push a 60 s window over the limit.
 */
export const RESERVATION_TOLERANCE_MS = 250;

export const UNLIMITED: BucketParameters = { requestCapacity: 0, requestRate: 0, tokenCapacity: 0, tokenRate: 0 };
const MINUTE_MS = 60_000;

/** Refilled per window beyond `limit - capacity`: just under one whole unit (see `dimension`). */
const WHOLE_UNIT_MARGIN = 0.999;

/**
 * A bucket that never lets any 60 s window see more than `limit`: it holds `burst * limit` (at
 * least one) and refills over one minute plus the reservation tolerance. Takes are whole units
 * (a request, a token), so a window sees at most floor(capacity + refill) of them: refilling
 * `limit - capacity` plus just under one unit keeps that at `limit`, and a limit so small that
 * the capacity is all of it (`rpm: 1`) still refills at the limit's rate.
 */
function dimension(limit: number | undefined, burst: number): [number, number] {
  if (limit === undefined) return [0, 0];
  const capacity = Math.min(limit, Math.max(1, Math.floor(limit * burst)));
  return [capacity, (limit - capacity + WHOLE_UNIT_MARGIN) / (MINUTE_MS + RESERVATION_TOLERANCE_MS)];
}

export function bucketParameters(
  limit: { rpm?: number | undefined; tpm?: number | undefined },
  burst: number,
): BucketParameters {
  const [requestCapacity, requestRate] = dimension(limit.rpm, burst);
  const [tokenCapacity, tokenRate] = dimension(limit.tpm, burst);
  return { requestCapacity, requestRate, tokenCapacity, tokenRate };
}

/** A tenant's place in a model's fair queue (see limiter-fair.lua). */
export interface FairShare {
  weight: number;
  /** Most calls the tenant may have granted or running on the model at once; 0 = no cap. */
  cap: number;
  /** How far ahead calls are scheduled, ms; calls past it wait in the fair queue. */
  horizonMs: number;
}

export interface ModelLimits {
  model: BucketParameters;
  /** The tenant's share of the model; UNLIMITED when none is configured. */
  tenant: BucketParameters;
  /** Set when fairness is on: the model's calls take fair turns between tenants. */
  fair?: FairShare;
}

type RulesConfig = Pick<LlmqConfig, 'limits' | 'tenant_limits'> & Partial<Pick<LlmqConfig, 'fairness' | 'accounts'>>;

/** Resolves the `limits:` and `tenant_limits:` sections for a model and tenant. Exact names win over globs. */
export class LimitRules {
  readonly #rules: Array<{ pattern: string; match: (model: string) => boolean; limit: LlmqConfig['limits'][string] }>;
  readonly #tenantLimits: LlmqConfig['tenant_limits'];
  readonly #fairness: LlmqConfig['fairness'] | undefined;
  readonly #cache = new Map<string, BucketParameters | null>();
  readonly #accounts: ProviderAccounts;

  constructor(config: RulesConfig) {
    this.#rules = Object.entries(config.limits)
      // Exact names first, then longer (more specific) globs.
      .sort(([left], [right]) => Number(left.includes('*')) - Number(right.includes('*')) || right.length - left.length)
      .map(([pattern, limit]) => ({ pattern, match: picomatch(pattern, { dot: true }), limit }));
    this.#tenantLimits = config.tenant_limits;
    this.#fairness = config.fairness?.enabled ? config.fairness : undefined;
    this.#accounts = new ProviderAccounts({ accounts: config.accounts ?? {} });
  }

  /** Whether the models' calls take fair turns between tenants. */
  get fair(): boolean {
    return this.#fairness !== undefined;
  }

  #fairShare(tenant: string): FairShare | undefined {
    const fairness = this.#fairness;
    if (fairness === undefined) return undefined;
    return {
      weight: fairness.weights[tenant] ?? fairness.default_weight,
      cap: fairness.max_in_flight[tenant] ?? fairness.max_in_flight['*'] ?? 0,
      horizonMs: fairness.horizon_ms,
    };
  }

  /** Prompt tokens the model's provider batches may have enqueued at once; undefined when unbounded. */
  batchEnqueuedTokens(model: string): number | undefined {
    return this.#rule(model)?.batch_enqueued_tokens;
  }

  #rule(model: string): LlmqConfig['limits'][string] | undefined {
    return this.#rules.find((candidate) => candidate.match(model))?.limit;
  }

  /**
   * An org's bucket of a model (`<provider>/<model>#<org>`, see ProviderAccounts) takes the org's
   * own limit for the model, else the model's.
   */
  #bucketRule(name: string): LlmqConfig['limits'][string] | undefined {
    const { model, org } = splitBucketName(name);
    const parsed = org === undefined ? undefined : parseModelName(model);
    const orgLimit =
      org !== undefined && parsed?.ok
        ? this.#accounts.orgLimit(parsed.reference.provider, org, parsed.reference.modelId)
        : undefined;
    return orgLimit ?? this.#rule(model);
  }

  /**
   * Undefined when the model has no limit and the tenant no cap: it is never throttled. `model`
   * may name an org's bucket of the model.
   */
  forModel(model: string, tenant: string): ModelLimits | undefined {
    let parameters = this.#cache.get(model);
    if (parameters === undefined) {
      const rule = this.#bucketRule(model);
      // A rule that bounds only batch work leaves the model's calls unthrottled.
      parameters =
        rule && (rule.rpm !== undefined || rule.tpm !== undefined) ? bucketParameters(rule, rule.burst) : null;
      this.#cache.set(model, parameters);
    }
    const fair = this.#fairShare(tenant);
    // A capped tenant's calls count against its cap on every model, limited or not.
    if (parameters === null && !(fair && fair.cap > 0)) return undefined;
    const tenantLimit = this.#tenantLimits[tenant] ?? this.#tenantLimits['*'];
    return {
      model: parameters ?? UNLIMITED,
      tenant: tenantLimit ? bucketParameters(tenantLimit, 0.02) : UNLIMITED,
      ...(fair ? { fair } : {}),
    };
  }
}
