import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { canonicalBodyHash } from './canonical-body-hash.js';
import { IdempotencyKeys, idempotencyRedisKey } from './idempotency-keys.js';

const test = redisTest.extend('fixture', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(async () => {
    await redis.quit();
  });
  return { redis, keys: new IdempotencyKeys({ redis, ttlMs: 5_000, pendingTtlMs: 1_000 }) };
});

let counter = 0;
const freshKey = () => `key-${Date.now()}-${(counter += 1)}`;

describe('canonicalBodyHash', () => {
  test('ignores key order and whitespace, not values', () => {
    const hash = canonicalBodyHash({ type: 'chat', request: { model: 'm', max_tokens: 5 } });
    expect(canonicalBodyHash(JSON.parse('{ "request": {"max_tokens": 5.0, "model": "m"}, "type": "chat" }'))).toBe(
      hash,
    );
    expect(canonicalBodyHash({ type: 'chat', request: { model: 'm', max_tokens: 6 } })).not.toBe(hash);
    expect(canonicalBodyHash(undefined)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('IdempotencyKeys', () => {
  test('the first claim wins; later ones see its job, body and state', async ({ fixture: { keys } }) => {
    const key = freshKey();
    expect(await keys.claim({ tenant: 'a', key, bodyHash: 'h1', jobId: 'job_1' })).toEqual({ outcome: 'claimed' });
    expect(await keys.claim({ tenant: 'a', key, bodyHash: 'h2', jobId: 'job_2' })).toEqual({
      outcome: 'existing',
      jobId: 'job_1',
      bodyHash: 'h1',
      state: 'pending',
    });
    expect(await keys.complete('a', key, 'job_2')).toBe(false);
    expect(await keys.complete('a', key, 'job_1')).toBe(true);
    expect(await keys.claim({ tenant: 'a', key, bodyHash: 'h1', jobId: 'job_3' })).toMatchObject({
      jobId: 'job_1',
      state: 'done',
    });
  });

  test('keys are per tenant, hash-tagged and bounded in length', async ({ fixture: { keys } }) => {
    const key = 'x'.repeat(255);
    expect((await keys.claim({ tenant: 'a', key, bodyHash: 'h', jobId: 'job_a' })).outcome).toBe('claimed');
    expect((await keys.claim({ tenant: 'b', key, bodyHash: 'h', jobId: 'job_b' })).outcome).toBe('claimed');
    expect(idempotencyRedisKey('a', key)).toMatch(/^llmq:\{t:a\}:idempotency:[0-9a-f]{64}$/);
  });

  test('a pending claim expires soon; a completed one lives for the full time', async ({
    fixture: { keys, redis },
  }) => {
    const pending = freshKey();
    await keys.claim({ tenant: 'a', key: pending, bodyHash: 'h', jobId: 'job_1' });
    expect(await redis.pttl(idempotencyRedisKey('a', pending))).toBeLessThanOrEqual(1_000);
    const done = freshKey();
    await keys.claim({ tenant: 'a', key: done, bodyHash: 'h', jobId: 'job_2' });
    await keys.complete('a', done, 'job_2');
    expect(await redis.pttl(idempotencyRedisKey('a', done))).toBeGreaterThan(4_000);
  });

  test('release frees only the holder’s claim', async ({ fixture: { keys } }) => {
    const key = freshKey();
    await keys.claim({ tenant: 'a', key, bodyHash: 'h', jobId: 'job_1' });
    expect(await keys.release('a', key, 'job_9')).toBe(false);
    expect(await keys.release('a', key, 'job_1')).toBe(true);
    expect((await keys.claim({ tenant: 'a', key, bodyHash: 'h', jobId: 'job_2' })).outcome).toBe('claimed');
  });

  test('of 50 concurrent claims exactly one wins', async ({ fixture: { keys } }) => {
    const key = freshKey();
    const claims = await Promise.all(
      Array.from({ length: 50 }, (_, index) => keys.claim({ tenant: 'a', key, bodyHash: 'h', jobId: `job_${index}` })),
    );
    expect(claims.filter((claim) => claim.outcome === 'claimed')).toHaveLength(1);
    const winners = new Set(claims.map((claim) => (claim.outcome === 'existing' ? claim.jobId : 'winner')));
    expect(winners.size).toBe(2);
  });
});
