import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { bucketParameters, UNLIMITED, type ModelLimits } from './limit-rules.js';
import { RateLimiter } from './rate-limiter.js';

const test = redisTest.extend('limiter', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(() => void redis.quit());
  // A fresh model name per test is a fresh set of buckets.
  return { limiter: new RateLimiter(redis), redis, model: `openai/m-${randomUUID().slice(0, 8)}` };
});

const limits = (limit: { rpm?: number; tpm?: number }, burst = 0.02): ModelLimits => ({
  model: bucketParameters(limit, burst),
  tenant: UNLIMITED,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RateLimiter', () => {
  test('many concurrent takers never get more than the bucket holds plus its refill', async ({ limiter: { limiter, model } }) => {
    const rule = limits({ rpm: 6_000 }); // capacity 120, refill 0.098 per ms
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 600 }, () => limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 0 })),
    );
    const elapsed = performance.now() - started;
    const admitted = answers.filter((answer) => answer.admitted).length;
    expect(admitted).toBeGreaterThanOrEqual(120);
    expect(admitted).toBeLessThanOrEqual(120 + Math.ceil(elapsed * rule.model.requestRate) + 1);
    for (const answer of answers.filter((candidate) => !candidate.admitted)) expect(answer.waitMs).toBeGreaterThan(0);
  });

  test('refills continuously: the wait it names is the wait that works', async ({ limiter: { limiter, model } }) => {
    const rule = limits({ rpm: 600 }, 0.01); // capacity 6, 594/min = 0.0099 per ms: one request per ~101 ms
    for (let index = 0; index < 6; index += 1) {
      expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 0 })).admitted).toBe(true);
    }
    const refused = await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 0 });
    expect(refused.admitted).toBe(false);
    expect(refused.waitMs).toBeGreaterThan(80);
    expect(refused.waitMs).toBeLessThanOrEqual(102);
    await sleep(refused.waitMs + 5);
    expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 0 })).admitted).toBe(true);
  });

  test('checks requests and tokens together and takes from both only when both have room', async ({
    limiter: { limiter, model },
  }) => {
    const rule = limits({ rpm: 1_000, tpm: 100_000 }, 0.01); // 10 requests, 1,000 tokens
    expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 900 })).admitted).toBe(true);
    const tooBig = await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 500 });
    expect(tooBig.admitted).toBe(false);
    // The refused call took nothing: nine more small requests still fit.
    for (let index = 0; index < 9; index += 1) {
      expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 10 })).admitted).toBe(true);
    }
    expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 1 })).admitted).toBe(false);
  });

  test('settles reservations: a refund admits at once, an extra charge makes the next wait longer', async ({
    limiter: { limiter, model },
  }) => {
    const rule = limits({ tpm: 60_000 }, 1 / 60); // capacity 1,000 tokens, refill 0.983 per ms
    expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 1_000 })).admitted).toBe(true);
    expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 600 })).admitted).toBe(false);
    await limiter.adjust({ model, tenant: 't', limits: rule, tokenCorrection: -700 });
    expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 600 })).admitted).toBe(true);

    await limiter.adjust({ model, tenant: 't', limits: rule, tokenCorrection: 800 });
    const after = await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 100 });
    expect(after.admitted).toBe(false);
    // About 900 tokens of debt to refill at ~0.98 per ms.
    expect(after.waitMs).toBeGreaterThan(700);
  });

  test('keeps buckets apart: one model exhausted does not slow another', async ({ limiter: { limiter, model } }) => {
    const rule = limits({ rpm: 60 }, 0.02); // capacity 1
    expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 0 })).admitted).toBe(true);
    expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 0 })).admitted).toBe(false);
    expect((await limiter.acquire({ model: `${model}-b`, tenant: 't', limits: rule, requests: 1, tokens: 0 })).admitted).toBe(true);
  });

  test('a tenant share limits one tenant while others keep flowing', async ({ limiter: { limiter, model } }) => {
    const shared: ModelLimits = { model: bucketParameters({ rpm: 6_000 }, 0.02), tenant: bucketParameters({ rpm: 120 }, 0.02) };
    let admitted = 0;
    for (let index = 0; index < 10; index += 1) {
      if ((await limiter.acquire({ model, tenant: 'greedy', limits: shared, requests: 1, tokens: 0 })).admitted) admitted += 1;
    }
    expect(admitted).toBe(2); // the tenant's bucket holds 2
    expect((await limiter.acquire({ model, tenant: 'other', limits: shared, requests: 1, tokens: 0 })).admitted).toBe(true);
  });

  test('a provider 429 blocks every worker for its retry-after', async ({ limiter: { limiter, model } }) => {
    const rule = limits({ rpm: 60_000 });
    await limiter.adjust({ model, tenant: 'a', limits: rule, blockForMs: 400 });
    const blocked = await limiter.acquire({ model, tenant: 'b', limits: rule, requests: 1, tokens: 0 });
    expect(blocked.admitted).toBe(false);
    expect(blocked.waitMs).toBeGreaterThan(350);
    expect(blocked.waitMs).toBeLessThanOrEqual(400);
    await sleep(blocked.waitMs + 10);
    expect((await limiter.acquire({ model, tenant: 'b', limits: rule, requests: 1, tokens: 0 })).admitted).toBe(true);
  });

  test('lowers the bucket to what the provider says remains', async ({ limiter: { limiter, model } }) => {
    const rule = limits({ rpm: 60_000, tpm: 6_000_000 }); // full bucket: 1,200 requests, 120,000 tokens
    await limiter.adjust({ model, tenant: 't', limits: rule, remainingTokens: 50 });
    const refused = await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 5_000 });
    expect(refused.admitted).toBe(false);
  });

  test('never leaks: a reservation nobody settles is refilled within one window', async ({ limiter: { limiter, model } }) => {
    const rule = limits({ rpm: 60_000 }, 0.5); // capacity 30,000; 0.5 per ms
    expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 30_000, tokens: 0 })).admitted).toBe(true);
    const refused = await limiter.acquire({ model, tenant: 't', limits: rule, requests: 30_000, tokens: 0 });
    expect(refused.waitMs).toBeLessThanOrEqual(60_000);
  });

  test('admits a request larger than the bucket once it is full, leaving it in debt', async ({ limiter: { limiter, model } }) => {
    const rule = limits({ tpm: 6_000 }); // capacity 120 tokens
    expect((await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 500 })).admitted).toBe(true);
    const next = await limiter.acquire({ model, tenant: 't', limits: rule, requests: 1, tokens: 1 });
    expect(next.admitted).toBe(false);
  });
});
