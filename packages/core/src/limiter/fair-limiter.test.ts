import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { bucketParameters, UNLIMITED, type FairShare, type ModelLimits } from './limit-rules.js';
import { fairKeys, RateLimiter } from './rate-limiter.js';

const test = redisTest.extend('limiter', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(() => void redis.quit().catch(() => undefined));
  // A fresh model name per test is a fresh set of buckets and a fresh fair queue.
  return { limiter: new RateLimiter(redis), redis, model: `openai/f-${randomUUID().slice(0, 8)}` };
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fairLimits = (limit: { rpm?: number; tpm?: number }, fair: Partial<FairShare> = {}): ModelLimits => ({
  model: limit.rpm || limit.tpm ? bucketParameters(limit, 0.02) : UNLIMITED,
  tenant: UNLIMITED,
  fair: { weight: 1, cap: 0, horizonMs: 250, ...fair },
});

describe('RateLimiter with fair share', () => {
  test('a backlog books no further ahead than the horizon; the rest queues and is granted as the horizon moves', async ({
    limiter: { limiter, model },
  }) => {
    const limits = fairLimits({ rpm: 6_000 }); // 120 at once, then one per ~10 ms
    const answers = await Promise.all(
      Array.from({ length: 400 }, (_, index) =>
        limiter.fairAcquire({
          model,
          tenant: 'a',
          limits,
          requests: 1,
          tokens: 0,
          callId: `a${index}`,
          rank: 5,
          leaseMs: 60_000,
        }),
      ),
    );
    const count = (status: string) => answers.filter((answer) => answer.status === status).length;
    expect(count('admitted')).toBeGreaterThanOrEqual(120);
    // Scheduled calls reach at most the horizon (250 ms, ~25 calls) past the burst.
    expect(count('admitted') + count('scheduled')).toBeLessThan(120 + 40);
    const scheduled = answers.filter((answer) => answer.status === 'scheduled');
    expect(Math.max(...scheduled.map((answer) => answer.waitMs))).toBeLessThanOrEqual(260);
    // A queued call is told the soonest its turn can come: past the horizon.
    const queued = answers.filter((answer) => answer.status === 'queued');
    expect(Math.min(...queued.map((answer) => answer.waitMs))).toBeGreaterThan(200);
    expect(count('queued')).toBeGreaterThan(200);
    // Time passes: each tick grants what came within the horizon, never further.
    await sleep(300);
    const tick = await limiter.fairTick({ model, limits });
    expect(tick.granted.length).toBeGreaterThanOrEqual(20);
    expect(tick.granted.length).toBeLessThan(60);
    expect(tick.queued).toBe(1);
    // A granted call that comes back at its time goes; one that comes back early is told to wait.
    const first = await limiter.fairAcquire({
      model,
      tenant: 'a',
      limits,
      requests: 1,
      tokens: 0,
      callId: String(tick.granted.at(-1)),
      rank: 5,
      leaseMs: 60_000,
    });
    expect(first.status).toBe('scheduled');
    expect(first.waitMs).toBeLessThanOrEqual(260);
  });

  test('two tenants weighted 3:1 that both wait get the capacity 3:1, each in its own arrival order', async ({
    limiter: { limiter, model },
  }) => {
    const limits = (weight: number) => fairLimits({ rpm: 6_000 }, { weight, horizonMs: 100 });
    const acquire = (tenant: string, index: number) =>
      limiter.fairAcquire({
        model,
        tenant,
        limits: limits(tenant === 'heavy' ? 3 : 1),
        requests: 1,
        tokens: 0,
        callId: `${tenant}-${index}`,
        rank: 5,
        leaseMs: 60_000,
      });
    // The light tenant's backlog first: it takes the burst alone, then both queue.
    for (let index = 0; index < 300; index++) await acquire('light', index);
    for (let index = 0; index < 600; index++) await acquire('heavy', index);
    const granted: string[] = [];
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      granted.push(...(await limiter.fairTick({ model, limits: limits(1) })).granted);
      await sleep(20);
    }
    const heavy = granted.filter((id) => id.startsWith('heavy')).length;
    const light = granted.filter((id) => id.startsWith('light')).length;
    expect(heavy + light).toBeGreaterThan(150);
    expect(heavy / (heavy + light)).toBeGreaterThan(0.72);
    expect(heavy / (heavy + light)).toBeLessThan(0.78);
    // Within the tenant, arrival order.
    const lightOrder = granted.filter((id) => id.startsWith('light')).map((id) => Number(id.split('-')[1]));
    expect(lightOrder).toEqual([...lightOrder].sort((left, right) => left - right));
  });

  test("a tenant that arrives behind another's backlog is granted the next slot, not after the backlog", async ({
    limiter: { limiter, model },
  }) => {
    const limits = fairLimits({ rpm: 600 }); // one per ~100 ms
    for (let index = 0; index < 1_000; index++) {
      await limiter.fairAcquire({
        model,
        tenant: 'bulk',
        limits,
        requests: 1,
        tokens: 0,
        callId: `bulk-${index}`,
        rank: 5,
        leaseMs: 60_000,
      });
    }
    const arrival = await limiter.fairAcquire({
      model,
      tenant: 'newcomer',
      limits,
      requests: 1,
      tokens: 0,
      callId: 'newcomer-0',
      rank: 5,
      leaseMs: 60_000,
    });
    // Granted as it arrived (the horizon had room since the last grant), or queued for the next.
    expect(['scheduled', 'queued']).toContain(arrival.status);
    const granted: string[] = arrival.status === 'scheduled' ? ['newcomer-0'] : [];
    while (!granted.includes('newcomer-0')) {
      granted.push(...(await limiter.fairTick({ model, limits })).granted);
      await sleep(25);
    }
    // At most one bulk call (the turn in progress) before it.
    expect(granted.indexOf('newcomer-0')).toBeLessThanOrEqual(1);
    expect(arrival.waitMs).toBeLessThan(1_000);
  });

  test("with no horizon, a tenant whose turn it is goes at once behind another's backlog: the grants leave it a reserve", async ({
    limiter: { limiter, model },
  }) => {
    const limits = fairLimits({ rpm: 6_000 }, { horizonMs: 0 }); // 120 at once, then one per ~10 ms
    const acquire = (tenant: string, callId: string) =>
      limiter.fairAcquire({ model, tenant, limits, requests: 1, tokens: 0, callId, rank: 5, leaseMs: 60_000 });
    // A backlog the test cannot see drained: 1,000 calls at 100 a second.
    const backlog = await Promise.all(Array.from({ length: 1_000 }, (_, index) => acquire('bulk', `bulk-${index}`)));
    // Nothing is scheduled ahead: calls go now or queue.
    expect(backlog.filter((answer) => answer.status === 'scheduled')).toHaveLength(0);
    expect(backlog.filter((answer) => answer.status === 'queued').length).toBeGreaterThan(800);
    const granted: string[] = [];
    for (let round = 0; round < 20; round++) {
      await sleep(30);
      granted.push(...(await limiter.fairTick({ model, limits })).granted);
    }
    // The backlog is granted as the bucket refills, past the quarter it keeps in reserve.
    expect(granted.length).toBeGreaterThan(10);
    await sleep(30);
    const newcomer = await acquire('newcomer', 'newcomer-0');
    expect(newcomer.status).toBe('admitted');
    // Its tag moved on by that call: within a turn or two its calls queue behind the bulk tenant's.
    const next = [await acquire('newcomer', 'newcomer-1'), await acquire('newcomer', 'newcomer-2')];
    expect(next.map((answer) => answer.status)).toContain('queued');
  });

  test("priority orders a tenant's own calls; a released queued call leaves the queue", async ({
    limiter: { limiter, model },
  }) => {
    const limits = fairLimits({ rpm: 600 }, { horizonMs: 50 });
    const acquire = (callId: string, rank: number) =>
      limiter.fairAcquire({ model, tenant: 't', limits, requests: 1, tokens: 0, callId, rank, leaseMs: 60_000 });
    for (let index = 0; index < 15; index++) await acquire(`fill-${index}`, 5);
    await acquire('bulk-1', 9);
    await acquire('default-1', 5);
    await acquire('interactive-1', 1);
    await acquire('interactive-2', 1);
    await acquire('gone', 1);
    await limiter.fairRelease({ model, tenant: 't', limits, callId: 'gone', refund: true });
    const granted: string[] = [];
    while (!granted.includes('bulk-1')) {
      granted.push(...(await limiter.fairTick({ model, limits })).granted);
      await sleep(25);
    }
    const named = granted.filter((id) => !id.startsWith('fill'));
    expect(named).toEqual(['interactive-1', 'interactive-2', 'default-1', 'bulk-1']);
  });

  test('a capped tenant holds at most its cap of slots; ending one grants the next; a dead hold lapses', async ({
    limiter: { limiter, model, redis },
  }) => {
    const limits = fairLimits({}, { cap: 2 });
    const acquire = (callId: string, leaseMs = 60_000) =>
      limiter.fairAcquire({ model, tenant: 'capped', limits, requests: 1, tokens: 0, callId, rank: 5, leaseMs });
    expect((await acquire('c1')).status).toBe('admitted');
    expect((await acquire('c2', 1_500)).status).toBe('admitted');
    expect((await acquire('c3')).status).toBe('queued');
    expect((await acquire('c4')).status).toBe('queued');
    // Another tenant is not held back by the capped one.
    const other = await limiter.fairAcquire({
      model,
      tenant: 'free',
      limits: fairLimits({}),
      requests: 1,
      tokens: 0,
      callId: 'f1',
      rank: 5,
      leaseMs: 60_000,
    });
    expect(other.status).toBe('admitted');
    expect(await limiter.fairRelease({ model, tenant: 'capped', limits, callId: 'c1', refund: false })).toEqual(['c3']);
    // c2's worker "died": its lease lapses and c4 gets the slot.
    expect((await limiter.fairTick({ model, limits })).granted).toEqual([]);
    await sleep(1_600);
    expect((await limiter.fairTick({ model, limits })).granted).toEqual(['c4']);
    const holds = await redis.hkeys(fairKeys(model).holds);
    // The uncapped tenant's call went straight through: it holds nothing to give back.
    expect(holds.sort()).toEqual(['c3', 'c4']);
    expect(other.held).toBe(false);
  });

  test('settling a call ends its hold and corrects its tokens in one round trip, and grants the next', async ({
    limiter: { limiter, model, redis },
  }) => {
    const limits = fairLimits({ tpm: 100_000 }, { cap: 1 });
    const acquire = (callId: string) =>
      limiter.fairAcquire({ model, tenant: 't', limits, requests: 1, tokens: 1_000, callId, rank: 5, leaseMs: 60_000 });
    expect((await acquire('first')).status).toBe('admitted');
    expect((await acquire('second')).status).toBe('queued');
    const tokensBefore = Number(await redis.hget(`llmq:{rl:${model}}:bucket`, 't'));
    // The call used 100 of its 1,000 tokens: 900 come back, and the cap's slot goes to 'second'.
    expect(await limiter.settleFairly({ model, tenant: 't', limits, tokenCorrection: -900, callId: 'first' })).toEqual([
      'second',
    ]);
    const tokensAfter = Number(await redis.hget(`llmq:{rl:${model}}:bucket`, 't'));
    // 'second' took its 1,000 as it was granted: 900 back, 1,000 out (and a little refill).
    expect(tokensAfter - tokensBefore).toBeGreaterThan(-150);
    expect(tokensAfter - tokensBefore).toBeLessThan(0);
    expect(await redis.hkeys(fairKeys(model).holds)).toEqual(['second']);
  });

  test('a grant come back for too late goes back, and the call queues first among its tenant', async ({
    limiter: { limiter, model },
  }) => {
    const limits = fairLimits({ rpm: 60 }, { horizonMs: 1_500 }); // capacity 1, then one a second
    const acquire = (callId: string) =>
      limiter.fairAcquire({ model, tenant: 't', limits, requests: 1, tokens: 0, callId, rank: 5, leaseMs: 60_000 });
    expect((await acquire('first')).status).toBe('admitted');
    const second = await acquire('second');
    expect(second.status).toBe('scheduled');
    expect((await acquire('third')).status).toBe('queued');
    await sleep(second.waitMs + 400); // past the 250 ms tolerance
    // Its slot went back and the queue's first place is its own: ahead of 'third', which waited.
    expect((await acquire('second')).status).toBe('admitted');
    // 'third' is granted the slot after it, a refill later.
    const third = await acquire('third');
    expect(third.status).toBe('scheduled');
    expect(third.waitMs).toBeGreaterThan(800);
  });

  test('a queued call whose want is missing is dropped, not granted, and the call behind it is', async ({
    limiter: { limiter, model, redis },
  }) => {
    const limits = fairLimits({ rpm: 60 }, { horizonMs: 0 }); // capacity 1
    const acquire = (callId: string) =>
      limiter.fairAcquire({ model, tenant: 't', limits, requests: 1, tokens: 0, callId, rank: 5, leaseMs: 60_000 });
    expect((await acquire('first')).status).toBe('admitted');
    expect((await acquire('lost')).status).toBe('queued');
    expect((await acquire('kept')).status).toBe('queued');
    await redis.hdel(fairKeys(model).wants, 'lost');
    await limiter.settleFairly({ model, tenant: 't', limits, callId: 'first' });
    // Refilled (and then some): the next tick grants 'kept', and 'lost' is gone from the queue.
    await redis.hset(`llmq:{rl:${model}}:bucket`, 'r', '1');
    const tick = await limiter.fairTick({ model, limits });
    expect(tick.granted).toEqual(['kept']);
    expect(await redis.zcard(fairKeys(model).calls)).toBe(0);
  });
});
