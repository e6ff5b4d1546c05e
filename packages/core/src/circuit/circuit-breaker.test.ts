import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { CircuitBreaker } from './circuit-breaker.js';

const test = redisTest.extend('circuit', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  const other = new Redis(redisUrl);
  onCleanup(() => {
    void redis.quit().catch(() => undefined);
    void other.quit().catch(() => undefined);
  });
  const options = {
    consecutiveFailures: 3,
    failureRate: 0.5,
    minimumCalls: 10,
    windowMs: 60_000,
    openMs: 300,
    probeLeaseMs: 200,
  };
  // Two breakers on two connections stand for two worker processes.
  return {
    one: new CircuitBreaker(redis, options),
    two: new CircuitBreaker(other, options),
    model: `openai/c-${randomUUID()}`,
  };
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('CircuitBreaker', () => {
  test('opens on consecutive failures for every worker, probes once half-open, closes on success', async ({
    circuit: { one, two, model },
  }) => {
    expect((await one.check(model)).state).toBe('closed');
    await one.record(model, 'failure');
    await two.record(model, 'failure');
    expect(await one.record(model, 'failure')).toBe('open');
    const refused = await two.check(model);
    expect(refused).toMatchObject({ allowed: false, state: 'open' });
    expect(refused.waitMs).toBeGreaterThan(200);
    expect(refused.waitMs).toBeLessThanOrEqual(300);

    await sleep(320);
    expect(await two.check(model)).toMatchObject({ allowed: true, state: 'half_open' });
    // Only one probe at a time.
    expect(await one.check(model)).toMatchObject({ allowed: false, state: 'half_open' });
    expect(await two.record(model, 'success')).toBe('closed');
    expect(await one.check(model)).toMatchObject({ allowed: true, state: 'closed' });
  });

  test('a failed probe opens it again', async ({ circuit: { one, model } }) => {
    for (let index = 0; index < 3; index += 1) await one.record(model, 'failure');
    await sleep(320);
    expect((await one.check(model)).allowed).toBe(true);
    expect(await one.record(model, 'failure')).toBe('open');
    expect((await one.check(model)).allowed).toBe(false);
  });

  test('opens on the failure rate of a window, not on scattered failures', async ({ circuit: { one, model } }) => {
    // 10 calls, 2 failures, never 3 in a row: closed.
    for (let index = 0; index < 5; index += 1) {
      await one.record(model, 'success');
      await one.record(model, index % 3 === 0 ? 'failure' : 'success');
    }
    expect((await one.check(model)).state).toBe('closed');
    // Two failures in three: the rate passes 50% with never 3 in a row.
    for (let index = 0; index < 8; index += 1) {
      await one.record(model, 'failure');
      await one.record(model, 'success');
      await one.record(model, 'failure');
    }
    expect((await one.check(model)).state).toBe('open');
  });
});
