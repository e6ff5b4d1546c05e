import { describe, expect, it } from 'vitest';
import { llmqConfigSchema } from '../config/llmq-config-schema.js';
import { bucketParameters, LimitRules, RESERVATION_TOLERANCE_MS } from './limit-rules.js';

describe('bucketParameters', () => {
  it.each([
    [1_200, 0.02],
    [120_000, 0.02],
    [5, 0.02],
    [90_000_000, 0.05],
  ])('never lets a 60 s window exceed %i (burst %f)', (limit, burst) => {
    const bucket = bucketParameters({ rpm: limit, tpm: limit }, burst);
    expect(bucket.requestCapacity + bucket.requestRate * (60_000 + RESERVATION_TOLERANCE_MS)).toBeCloseTo(limit, 6);
    expect(bucket.tokenCapacity).toBe(Math.max(1, Math.floor(limit * burst)));
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
    expect((limitFor('anyone')?.requestCapacity ?? 0) + (limitFor('anyone')?.requestRate ?? 0) * 60_250).toBeCloseTo(
      30,
    );
    expect((limitFor('vip')?.requestCapacity ?? 0) + (limitFor('vip')?.requestRate ?? 0) * 60_250).toBeCloseTo(60);
  });
});
