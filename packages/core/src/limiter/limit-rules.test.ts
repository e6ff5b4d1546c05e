import { describe, expect, it } from 'vitest';
import { llmqConfigSchema } from '../config/llmq-config-schema.js';
import { bucketParameters, LimitRules, RESERVATION_TOLERANCE_MS } from './limit-rules.js';

describe('bucketParameters', () => {
  const window = 60_000 + RESERVATION_TOLERANCE_MS;

  it.each([
    [1_200, 0.02],
    [120_000, 0.02],
    [5, 0.02],
    [2, 0.02],
    [1, 0.02],
    [10, 0.02],
    [90_000_000, 0.05],
  ])('never lets a 60 s window take more than %i whole units, and refills at that rate (burst %f)', (limit, burst) => {
    const bucket = bucketParameters({ rpm: limit, tpm: limit }, burst);
    expect(Math.floor(bucket.requestCapacity + bucket.requestRate * window)).toBe(limit);
    expect(bucket.requestRate * window).toBeGreaterThanOrEqual(limit - bucket.requestCapacity);
    expect(bucket.tokenCapacity).toBe(Math.max(1, Math.floor(limit * burst)));
  });

  it('refills rpm 1 at one request a minute (it was one per 100 minutes)', () => {
    const bucket = bucketParameters({ rpm: 1 }, 0.02);
    expect(bucket.requestCapacity).toBe(1);
    expect(1 / bucket.requestRate).toBeLessThan(61_000);
    expect(1 / bucket.requestRate).toBeGreaterThan(60_000);
  });

  it('leaves a missing dimension unlimited', () => {
    expect(bucketParameters({ rpm: 100 }, 0.02)).toMatchObject({ tokenCapacity: 0, tokenRate: 0 });
  });
});

describe('LimitRules', () => {
  const rules = new LimitRules(
    llmqConfigSchema.parse({
      limits: {
        'openai/*': { rpm: 100 },
        'openai/gpt-4o-mini': { rpm: 500, tpm: 200_000 },
        'anthropic/claude-*': { rpm: 50 },
      },
      tenant_limits: { '*': { rpm: 30 }, vip: { rpm: 60 } },
    }),
  );

  it('prefers the exact name, falls back to globs, and has no limit otherwise', () => {
    expect(rules.forModel('openai/gpt-4o-mini', 'x')?.model.requestCapacity).toBe(10);
    expect(rules.forModel('openai/gpt-4.1', 'x')?.model.requestCapacity).toBe(2);
    expect(rules.forModel('anthropic/claude-haiku-4-5', 'x')?.model.requestCapacity).toBe(1);
    expect(rules.forModel('google/gemini-2.5-flash', 'x')).toBeUndefined();
  });

  it('gives each tenant its own share, "*" as the default', () => {
    const limitFor = (tenant: string) => rules.forModel('openai/gpt-4o-mini', tenant)?.tenant;
    const perWindow = (tenant: string) =>
      Math.floor((limitFor(tenant)?.requestCapacity ?? 0) + (limitFor(tenant)?.requestRate ?? 0) * 60_250);
    expect(perWindow('anyone')).toBe(30);
    expect(perWindow('vip')).toBe(60);
  });
});

describe('LimitRules.batchEnqueuedTokens', () => {
  const rules = new LimitRules(
    llmqConfigSchema.parse({
      limits: {
        'openai/gpt-4o': { rpm: 500, batch_enqueued_tokens: 90_000 },
        'google/*': { batch_enqueued_tokens: 2_000_000 },
      },
    }),
  );

  it("gives a model's bound on tokens its provider batches may hold, by the same matching as the limits", () => {
    expect(rules.batchEnqueuedTokens('openai/gpt-4o')).toBe(90_000);
    expect(rules.batchEnqueuedTokens('google/gemini-2.5-flash')).toBe(2_000_000);
    expect(rules.batchEnqueuedTokens('openai/gpt-4o-mini')).toBeUndefined();
  });

  it('leaves the calls of a model bounded only in batch work unthrottled', () => {
    expect(rules.forModel('google/gemini-2.5-flash', 'tenant')).toBeUndefined();
    expect(rules.forModel('openai/gpt-4o', 'tenant')?.model.requestCapacity).toBeGreaterThan(0);
  });
});
