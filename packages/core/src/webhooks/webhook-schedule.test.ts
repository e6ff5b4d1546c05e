import { describe, expect, it } from 'vitest';
import {
  createWebhookBackoffStrategy,
  DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
  webhookMaxAttempts,
  webhookRetryDelayMs,
} from './webhook-schedule.js';

describe('webhook retry schedule', () => {
  it('waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about a day', () => {
    const middle = () => 0.5;
    const delays = [1, 2, 3, 4, 5, 6, 7].map((attempt) => webhookRetryDelayMs(attempt, { random: middle }));
    expect(delays).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(webhookMaxAttempts()).toBe(8);
    const hours = DEFAULT_WEBHOOK_RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0) / 3_600_000;
    expect(hours).toBeGreaterThan(24);
    expect(hours).toBeLessThan(30);
  });

  it('answers -1 (no retry) once the schedule is used up', () => {
    expect(webhookRetryDelayMs(8)).toBe(-1);
    expect(createWebhookBackoffStrategy({ delaysMs: [100] })(2)).toBe(-1);
  });

  it('jitters within ±10 % by default', () => {
    expect(webhookRetryDelayMs(2, { random: () => 0 })).toBe(270_000);
    expect(webhookRetryDelayMs(2, { random: () => 0.999_999 })).toBe(330_000);
    const seen = new Set(Array.from({ length: 20 }, () => webhookRetryDelayMs(3)));
    expect(seen.size).toBeGreaterThan(1);
    for (const delay of seen) expect(Math.abs(delay - 1_800_000)).toBeLessThanOrEqual(180_000);
  });

  it('takes a short schedule for tests', () => {
    const strategy = createWebhookBackoffStrategy({ delaysMs: [50, 100], jitter: 0 });
    expect([strategy(1), strategy(2), strategy(3)]).toEqual([50, 100, -1]);
  });
});
