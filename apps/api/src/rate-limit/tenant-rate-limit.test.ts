import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { startTestApi, TEST_KEYS } from '../__fixtures__/test-api.js';

const test = redisTest.extend('api', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const api = await startTestApi({ redisUrl, config: { apiRateLimit: 5 } });
  onCleanup(() => api.close());
  return api;
});

describe('per-tenant API rate limit', () => {
  test('past its rate a tenant gets 429 rate_limited with Retry-After; another tenant does not', async ({ api }) => {
    const burst = await Promise.all(Array.from({ length: 20 }, () => api.call('/v1/jobs')));
    const other = await Promise.all(Array.from({ length: 5 }, () => api.call('/v1/jobs', { key: TEST_KEYS.b })));
    const statuses = burst.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(15);
    const refused = burst.find((answer) => answer.status === 429);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(refused?.body).toEqual({
      error: {
        type: 'rate_limited',
        message: 'more than 5 requests per second for this API key; retry after 1 s',
      },
    });
    expect(other.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);

    // The window passes and the tenant is served again.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const later = await api.call('/v1/jobs');
    expect(later.status).toBe(200);
    expect(later.headers.get('ratelimit-limit')).toBe('5');

    const metrics = await api.call('/metrics', { key: null });
    expect(metrics.text).toContain('llmq_api_rate_limited_total{tenant="a"} 15');
  });

  test('health, metrics and the dashboard are not limited', async ({ api }) => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => api.call('/healthz', { key: null })));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
  });
});
