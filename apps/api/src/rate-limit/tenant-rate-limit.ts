import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { tenantTag } from '@llmq/core';
import { tenantOf } from '../auth.js';
import { HttpError } from '../http-error.js';

export interface TenantRateLimitOptions {
  redis: Redis;
  /** Requests per second one tenant may make, counted across every API replica. */
  perSecond: number;
  /** Called for each refused request (metrics). */
  onLimited?: (tenant: string) => void;
}

/**
 * Per-tenant request limit on /v1, in Redis so it holds across API replicas: a one-second window
 * per tenant (rate-limiter-flexible). Past it: 429 `rate_limited` with `Retry-After`. If Redis
 * cannot answer, requests pass: the routes themselves then answer 503.
 */
export function tenantRateLimit(options: TenantRateLimitOptions): RequestHandler {
  const limiter = new RateLimiterRedis({
    storeClient: options.redis,
    points: options.perSecond,
    duration: 1,
    // The key is llmq:{t:<tenant>}:api-rate, in the tenant's hash slot like its other keys.
    keyPrefix: '',
  });
  return async (request, response, next) => {
    const tenant = tenantOf(request);
    try {
      const result = await limiter.consume(`${tenantTag(tenant)}:api-rate`);
      response.set('ratelimit-limit', String(options.perSecond));
      response.set('ratelimit-remaining', String(result.remainingPoints));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) return next();
      options.onLimited?.(tenant);
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      response.set('retry-after', String(retryAfterSeconds));
      throw new HttpError(
        429,
        'rate_limited',
        `more than ${options.perSecond} requests per second for this API key; retry after ${retryAfterSeconds} s`,
      );
    }
    next();
  };
}
