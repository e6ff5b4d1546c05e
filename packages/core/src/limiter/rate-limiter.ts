import type { Redis } from 'ioredis';
import { readLuaScript } from '../store/lua-scripts.js';
import { KEY_NAMESPACE } from '../store/job-keys.js';
import { RESERVATION_TOLERANCE_MS, type BucketParameters, type ModelLimits } from './limit-rules.js';

interface LimiterCommands {
  llmqLimiterAcquire(model: string, tenant: string, ...args: string[]): Promise<[number, number, number | string]>;
  llmqLimiterAdjust(model: string, tenant: string, ...args: string[]): Promise<number>;
}

/** Keys of a model's buckets; the hash tag keeps the model's and its tenants' in one slot. */
export function bucketKeys(model: string, tenant: string): { model: string; tenant: string } {
  const tag = `${KEY_NAMESPACE}:{rl:${model}}`;
  return { model: `${tag}:bucket`, tenant: `${tag}:tenant:${tenant}` };
}

// A bucket idle this long has refilled (capacity / rate <= 60 s); dropping it loses nothing.
const BUCKET_EXPIRY_MS = 120_000;

const parameters = (bucket: BucketParameters) => [
  String(bucket.requestCapacity),
  String(bucket.requestRate),
  String(bucket.tokenCapacity),
  String(bucket.tokenRate),
];

export interface Admission {
  /** The call may go now. */
  admitted: boolean;
  /** When not admitted: ms from now until the call's scheduled time. */
  waitMs: number;
  /**
   * When not admitted: the scheduled time (ms, Redis's clock). The want is already taken: the
   * job parks until then and passes this back to `acquire`, which lets it go without taking again.
   */
  reservation: number | undefined;
}

export interface Adjustment {
  /** Tokens the call really used minus those reserved (negative: refund). */
  tokenCorrection?: number;
  /** Requests to give back (negative) or charge; -1 returns a reservation that was never used. */
  requestCorrection?: number;
  /** A provider 429's wait: no worker is admitted to this model before it passes. */
  blockForMs?: number;
  /** What the provider's rate-limit headers say remains in its window. */
  remainingRequests?: number | undefined;
  remainingTokens?: number | undefined;
}

/**
 * The distributed token-bucket limiter: requests/min and tokens/min per provider/model (and per
 * tenant within a model), shared by every worker through Redis, one round trip per admission.
 */
export class RateLimiter {
  readonly #redis: Redis & LimiterCommands;

  constructor(redis: Redis) {
    const commands = redis as Redis & LimiterCommands;
    if (typeof commands.llmqLimiterAcquire !== 'function') {
      redis.defineCommand('llmqLimiterAcquire', {
        numberOfKeys: 2,
        lua: readLuaScript(new URL('./lua/limiter-acquire.lua', import.meta.url)),
      });
      redis.defineCommand('llmqLimiterAdjust', {
        numberOfKeys: 2,
        lua: readLuaScript(new URL('./lua/limiter-adjust.lua', import.meta.url)),
      });
    }
    this.#redis = commands;
  }

  async acquire(options: {
    model: string;
    tenant: string;
    limits: ModelLimits;
    requests: number;
    tokens: number;
    /** The reservation a previous `acquire` gave this call. */
    reservation?: number | undefined;
  }): Promise<Admission> {
    const keys = bucketKeys(options.model, options.tenant);
    const [admitted, waitMs, reservation] = await this.#redis.llmqLimiterAcquire(
      keys.model,
      keys.tenant,
      String(options.requests),
      String(Math.ceil(options.tokens)),
      ...parameters(options.limits.model),
      ...parameters(options.limits.tenant),
      String(BUCKET_EXPIRY_MS),
      String(options.reservation ?? 0),
      String(RESERVATION_TOLERANCE_MS),
    );
    return admitted === 1
      ? { admitted: true, waitMs: 0, reservation: undefined }
      : { admitted: false, waitMs: Number(waitMs), reservation: Number(reservation) };
  }

  async adjust(options: { model: string; tenant: string; limits: ModelLimits } & Adjustment): Promise<void> {
    const keys = bucketKeys(options.model, options.tenant);
    await this.#redis.llmqLimiterAdjust(
      keys.model,
      keys.tenant,
      String(Math.round(options.tokenCorrection ?? 0)),
      String(options.requestCorrection ?? 0),
      String(Math.ceil(options.blockForMs ?? 0)),
      String(options.remainingRequests ?? -1),
      String(options.remainingTokens ?? -1),
      ...parameters(options.limits.model),
      ...parameters(options.limits.tenant),
      String(BUCKET_EXPIRY_MS),
    );
  }
}
