import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { tenantTag } from '../store/job-keys.js';
import { readLuaScript } from '../store/lua-scripts.js';

interface IdempotencyCommands {
  llmqIdempotencyKey(key: string, ...args: string[]): Promise<string[] | number>;
}

/** A key already taken: by which job, for which body, and whether that job exists yet. */
export interface ExistingIdempotencyClaim {
  outcome: 'existing';
  jobId: string;
  bodyHash: string;
  /** `pending` while the first request is still creating the job; `done` once it is queued. */
  state: 'pending' | 'done';
}

export type IdempotencyClaim = { outcome: 'claimed' } | ExistingIdempotencyClaim;

export interface IdempotencyKeysOptions {
  redis: Redis;
  /** How long a finished key keeps answering with its job, ms. Default: 24 hours. */
  ttlMs?: number;
  /**
   * How long a claim whose request never finished (its process died) blocks the key, ms.
   * Default: 60 s; then the key is free again.
   */
  pendingTtlMs?: number;
}

/** Where a tenant's Idempotency-Key lives; the header value is hashed to bound the key's length. */
export function idempotencyRedisKey(tenant: string, key: string): string {
  return `${tenantTag(tenant)}:idempotency:${createHash('sha256').update(key).digest('hex')}`;
}

/** Idempotency-Key claims in Redis, one atomic script per change (see lua/idempotency-key.lua). */
export class IdempotencyKeys {
  readonly #redis: Redis & IdempotencyCommands;
  readonly ttlMs: number;
  readonly pendingTtlMs: number;

  constructor(options: IdempotencyKeysOptions) {
    this.ttlMs = options.ttlMs ?? 24 * 3_600_000;
    this.pendingTtlMs = options.pendingTtlMs ?? 60_000;
    const redis = options.redis as Redis & IdempotencyCommands;
    if (typeof redis.llmqIdempotencyKey !== 'function') {
      redis.defineCommand('llmqIdempotencyKey', {
        numberOfKeys: 1,
        lua: readLuaScript(new URL('./lua/idempotency-key.lua', import.meta.url)),
      });
    }
    this.#redis = redis;
  }

  /** Takes the key for `jobId` unless a request took it first; then says whose it is. */
  async claim(options: { tenant: string; key: string; bodyHash: string; jobId: string }): Promise<IdempotencyClaim> {
    const reply = await this.#redis.llmqIdempotencyKey(
      idempotencyRedisKey(options.tenant, options.key),
      'claim',
      options.jobId,
      options.bodyHash,
      String(this.pendingTtlMs),
    );
    if (!Array.isArray(reply) || reply[0] === 'claimed') return { outcome: 'claimed' };
    const [, jobId = '', bodyHash = '', state] = reply;
    return { outcome: 'existing', jobId, bodyHash, state: state === 'done' ? 'done' : 'pending' };
  }

  /** Marks the key's job as queued, for the full time to live; false if the claim was not this job's. */
  async complete(tenant: string, key: string, jobId: string): Promise<boolean> {
    const reply = await this.#redis.llmqIdempotencyKey(
      idempotencyRedisKey(tenant, key),
      'complete',
      jobId,
      '',
      String(this.ttlMs),
    );
    return reply === 1;
  }

  /** Frees the key if it is still `jobId`'s (its job could not be created, or is gone). */
  async release(tenant: string, key: string, jobId: string): Promise<boolean> {
    const reply = await this.#redis.llmqIdempotencyKey(idempotencyRedisKey(tenant, key), 'release', jobId, '', '0');
    return reply === 1;
  }
}
