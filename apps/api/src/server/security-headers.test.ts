import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { startTestApi, TEST_ADMIN_TOKEN } from '../__fixtures__/test-api.js';

const test = redisTest.extend('api', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const api = await startTestApi({ redisUrl, admin: { token: TEST_ADMIN_TOKEN } });
  onCleanup(() => api.close());
  return api;
});

describe('security headers', () => {
  test('JSON answers carry helmet headers and a CSP that loads nothing', async ({ api }) => {
    for (const path of ['/healthz', '/v1/jobs', '/nowhere']) {
      const { headers } = await api.call(path);
      expect(headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(headers.get('x-powered-by')).toBeNull();
    }
  });

  test('admin pages get a CSP bull-board works under, with no other origin allowed', async ({ api }) => {
    const { headers } = await api.call('/admin/login', { key: null });
    const policy = headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("style-src 'self' 'unsafe-inline'");
    expect(policy).not.toMatch(/https?:/);
    const board = await api.call('/admin/queues/', { key: TEST_ADMIN_TOKEN });
    expect(board.status).toBe(200);
    expect(board.headers.get('x-powered-by')).toBeNull();
    expect(board.headers.get('content-security-policy')).toBe(policy);
  });
});
