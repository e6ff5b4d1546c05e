import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { bucketParameters, UNLIMITED, type ModelLimits } from './limit-rules.js';
import { RateLimiter } from './rate-limiter.js';

const test = redisTest.extend('limiter', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(() => void redis.quit().catch(() => undefined));
  // A fresh model name per test is a fresh set of buckets.
  return { limiter: new RateLimiter(redis), redis, model: `openai/m-${randomUUID().slice(0, 8)}` };
});

const limits = (limit: { rpm?: number; tpm?: number }, burst = 0.02): ModelLimits => ({
  model: bucketParameters(limit, burst),
  tenant: UNLIMITED,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const acquire = (
  limiter: RateLimiter,
  model: string,
  rule: ModelLimits,
  extra: { tokens?: number; tenant?: string; reservation?: number } = {},
) =>
  limiter.acquire({
    model,
    tenant: extra.tenant ?? 't',
    limits: rule,
    requests: 1,
    tokens: extra.tokens ?? 0,
    reservation: extra.reservation,
  });

describe('RateLimiter', () => {
  test('many concurrent takers: never more than the bucket plus its refill now, the rest queued at the refill pace', async ({
    limiter: { limiter, model },
  }) => {
    const rule = limits({ rpm: 6_000 }); // capacity 120, then ~0.0977 per ms (one per ~10.2 ms)
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 600 }, () => acquire(limiter, model, rule)));
    const elapsed = performance.now() - started;
    const admitted = answers.filter((answer) => answer.admitted).length;
    expect(admitted).toBeGreaterThanOrEqual(120);
    expect(admitted).toBeLessThanOrEqual(120 + Math.ceil(elapsed * rule.model.requestRate) + 1);
    // The others hold distinct slots one refill interval apart: a queue, not a herd.
    const waits = answers.filter((answer) => !answer.admitted).map((answer) => answer.waitMs);
    const slots = answers.filter((answer) => !answer.admitted).map((answer) => answer.reservation ?? 0);
    expect(new Set(slots).size).toBe(slots.length);
    const interval = 1 / rule.model.requestRate;
    expect(Math.max(...waits)).toBeGreaterThan((600 - admitted - 2) * interval - elapsed - 50);
    expect(Math.max(...waits)).toBeLessThan((600 - admitted + 2) * interval + 50);
  });

  test('rpm 1: the second call is scheduled one minute after the first, not 100 minutes', async ({
    limiter: { limiter, model },
  }) => {
    const rule = limits({ rpm: 1 });
    expect((await acquire(limiter, model, rule)).admitted).toBe(true);
    const second = await acquire(limiter, model, rule);
    expect(second.admitted).toBe(false);
    expect(second.waitMs).toBeGreaterThan(59_000);
    expect(second.waitMs).toBeLessThan(61_000);
  });

  test('a reservation is honoured at its time without taking again; early is told to wait, late queues anew', async ({
    limiter: { limiter, model },
  }) => {
    const rule = limits({ rpm: 600 }, 0.01); // capacity 6, then one request per ~101 ms
    for (let index = 0; index < 6; index += 1) expect((await acquire(limiter, model, rule)).admitted).toBe(true);
    const scheduled = await acquire(limiter, model, rule);
    expect(scheduled.admitted).toBe(false);
    expect(scheduled.waitMs).toBeGreaterThan(80);
    expect(scheduled.waitMs).toBeLessThanOrEqual(102);

    const early = await acquire(limiter, model, rule, { reservation: scheduled.reservation });
    expect(early).toMatchObject({ admitted: false, reservation: scheduled.reservation });
    await sleep(early.waitMs + 5);
    expect((await acquire(limiter, model, rule, { reservation: scheduled.reservation })).admitted).toBe(true);

    // The next call queues one interval after that slot, and coming back far too late requeues it.
    const next = await acquire(limiter, model, rule);
    expect(next.admitted).toBe(false);
    expect(next.waitMs).toBeGreaterThan(50);
    await sleep(next.waitMs + 600);
    const late = await acquire(limiter, model, rule, { reservation: next.reservation });
    expect(late.admitted).toBe(true); // requeued, and after 600 ms idle the bucket had room at once
  });

  test('checks requests and tokens together', async ({ limiter: { limiter, model } }) => {
    const rule = limits({ rpm: 1_000, tpm: 100_000 }, 0.01); // 10 requests, 1,000 tokens
    expect((await acquire(limiter, model, rule, { tokens: 900 })).admitted).toBe(true);
    const tooBig = await acquire(limiter, model, rule, { tokens: 500 });
    expect(tooBig.admitted).toBe(false);
    // 400 tokens short at ~1.66 tokens per ms.
    expect(tooBig.waitMs).toBeGreaterThan(200);
    expect(tooBig.waitMs).toBeLessThan(300);
  });

  test('settles reservations: a refund shortens the queue, an extra charge lengthens it', async ({
    limiter: { limiter, model },
  }) => {
    const rule = limits({ tpm: 60_000 }, 1 / 60); // capacity 1,000 tokens, ~0.98 per ms
    expect((await acquire(limiter, model, rule, { tokens: 1_000 })).admitted).toBe(true);
    await limiter.adjust({ model, tenant: 't', limits: rule, tokenCorrection: -700 });
    expect((await acquire(limiter, model, rule, { tokens: 600 })).admitted).toBe(true);

    await limiter.adjust({ model, tenant: 't', limits: rule, tokenCorrection: 800 });
    const after = await acquire(limiter, model, rule, { tokens: 100 });
    expect(after.admitted).toBe(false);
    // About 900 tokens of debt plus 100 wanted, at ~0.98 per ms.
    expect(after.waitMs).toBeGreaterThan(800);
    expect(after.waitMs).toBeLessThan(1_200);
  });

  test('a reservation given back (a canceled job) frees its slot', async ({ limiter: { limiter, model } }) => {
    const rule = limits({ rpm: 60 }, 0.02); // capacity 1, one per second
    expect((await acquire(limiter, model, rule)).admitted).toBe(true);
    const first = await acquire(limiter, model, rule);
    const second = await acquire(limiter, model, rule);
    expect(second.waitMs).toBeGreaterThan(first.waitMs + 900);
    await limiter.adjust({ model, tenant: 't', limits: rule, requestCorrection: -1 });
    const third = await acquire(limiter, model, rule);
    expect(third.waitMs).toBeLessThan(second.waitMs + 100);
  });

  test('keeps buckets apart: one model exhausted does not slow another', async ({ limiter: { limiter, model } }) => {
    const rule = limits({ rpm: 60 }, 0.02); // capacity 1
    expect((await acquire(limiter, model, rule)).admitted).toBe(true);
    expect((await acquire(limiter, model, rule)).admitted).toBe(false);
    expect((await acquire(limiter, `${model}-b`, rule)).admitted).toBe(true);
  });

  test('a tenant share limits one tenant while others keep flowing', async ({ limiter: { limiter, model } }) => {
    const shared: ModelLimits = {
      model: bucketParameters({ rpm: 6_000 }, 0.02),
      tenant: bucketParameters({ rpm: 120 }, 0.02),
    };
    const greedy = [];
    for (let index = 0; index < 10; index += 1)
      greedy.push(await acquire(limiter, model, shared, { tenant: 'greedy' }));
    expect(greedy.filter((answer) => answer.admitted)).toHaveLength(2); // the tenant's bucket holds 2
    expect(Math.max(...greedy.map((answer) => answer.waitMs))).toBeGreaterThan(3_000); // 8 queued at ~2/s
    expect((await acquire(limiter, model, shared, { tenant: 'other' })).admitted).toBe(true);
  });

  test('a provider 429 blocks every worker for its retry-after, reservations included', async ({
    limiter: { limiter, model },
  }) => {
    const rule = limits({ rpm: 60_000 });
    await limiter.adjust({ model, tenant: 'a', limits: rule, blockForMs: 400 });
    const blocked = await acquire(limiter, model, rule, { tenant: 'b' });
    expect(blocked.admitted).toBe(false);
    expect(blocked.waitMs).toBeGreaterThan(350);
    expect(blocked.waitMs).toBeLessThanOrEqual(401);
    await sleep(blocked.waitMs + 10);
    expect((await acquire(limiter, model, rule, { tenant: 'b', reservation: blocked.reservation })).admitted).toBe(
      true,
    );
  });

  test('lowers the bucket to what the provider says remains', async ({ limiter: { limiter, model } }) => {
    const rule = limits({ rpm: 60_000, tpm: 6_000_000 }); // full bucket: 1,200 requests, 120,000 tokens
    await limiter.adjust({ model, tenant: 't', limits: rule, remainingTokens: 50 });
    expect((await acquire(limiter, model, rule, { tokens: 5_000 })).admitted).toBe(false);
  });

  test('never leaks: a reservation nobody settles is refilled within one window', async ({
    limiter: { limiter, model },
  }) => {
    const rule = limits({ tpm: 600_000 }, 0.5); // capacity 300,000
    expect((await acquire(limiter, model, rule, { tokens: 300_000 })).admitted).toBe(true);
    const refused = await acquire(limiter, model, rule, { tokens: 300_000 });
    expect(refused.waitMs).toBeLessThanOrEqual(60_250);
  });

  test('admits a request larger than the bucket once it is full, leaving it in debt', async ({
    limiter: { limiter, model },
  }) => {
    const rule = limits({ tpm: 6_000 }); // capacity 120 tokens
    expect((await acquire(limiter, model, rule, { tokens: 500 })).admitted).toBe(true);
    expect((await acquire(limiter, model, rule, { tokens: 1 })).admitted).toBe(false);
  });

  test("a bucket's key outlives its refill: its expiry is set on first use and renewed once half is gone, not at every call", async ({
    limiter: { limiter, model, redis },
  }) => {
    const rule = limits({ rpm: 6_000 });
    const key = `llmq:{rl:${model}}:bucket`;
    const renewals = async () => {
      const info = await redis.info('commandstats');
      return Number(/cmdstat_pexpire:calls=(\d+)/.exec(info)?.[1] ?? 0);
    };
    const before = await renewals();
    for (let index = 0; index < 20; index++) await acquire(limiter, model, rule);
    await limiter.adjust({ model, tenant: 't', limits: rule, tokenCorrection: 0 });
    // 21 writes, one expiry set: the first.
    expect((await renewals()) - before).toBe(1);
    expect(await redis.pttl(key)).toBeGreaterThan(100_000);
    // A 429's block outlasts the expiry: the key is kept for the block and an expiry after it.
    await limiter.adjust({ model, tenant: 't', limits: rule, blockForMs: 300_000 });
    expect(await redis.pttl(key)).toBeGreaterThan(400_000);
  });
});
