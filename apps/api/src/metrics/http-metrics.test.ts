import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { PrometheusMetrics } from '../../../../tests/support/prometheus-text.js';
import { chatSubmission, startTestApi, TEST_ADMIN_TOKEN } from '../__fixtures__/test-api.js';

const test = redisTest.extend('api', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const api = await startTestApi({ redisUrl, admin: { token: TEST_ADMIN_TOKEN } });
  onCleanup(() => api.close());
  return api;
});

describe('HTTP request metrics', () => {
  test('count every request by route template, method and status, never by its raw path', async ({ api }) => {
    const created = await api.call('/v1/jobs', { method: 'POST', body: JSON.stringify(chatSubmission('red')) });
    expect(created.status).toBe(202);
    const id = String(created.body?.id);
    expect((await api.call(`/v1/jobs/${id}`)).status).toBe(200);
    expect((await api.call(`/v1/jobs/${id}`)).status).toBe(200);
    // A route that throws: the error handler answers, and the route is still the one that matched.
    expect((await api.call('/v1/jobs/job_00000000000000000000000000')).status).toBe(404);
    expect((await api.call('/v1/jobs', { method: 'POST', body: '{"type":"chat"}' })).status).toBe(400);
    // Answered before any route: a body that is not JSON, no key, no such path.
    expect((await api.call('/v1/jobs', { method: 'POST', body: '{"type":' })).status).toBe(400);
    expect((await api.call(`/v1/jobs/${id}`, { key: null })).status).toBe(401);
    expect((await api.call(`/v1/no-such-thing/${id}`)).status).toBe(404);
    // A router mounted under a path (the dashboard's API) keeps its mount in the template.
    const board = await api.call('/admin/queues/api/queues', {
      key: null,
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(board.status).toBe(200);

    const text = (await api.call('/metrics', { key: null })).text;
    const metrics = new PrometheusMetrics(text);
    const requests = (labels: Record<string, string>) => metrics.count('llmq_http_request_duration_seconds', labels);
    expect(requests({ route: '/v1/jobs', method: 'POST', status_code: '202' })).toBe(1);
    expect(requests({ route: '/v1/jobs', method: 'POST', status_code: '400' })).toBe(1);
    expect(requests({ route: '/v1/jobs/:id', method: 'GET', status_code: '200' })).toBe(2);
    expect(requests({ route: '/v1/jobs/:id', method: 'GET', status_code: '404' })).toBe(1);
    expect(requests({ route: 'none', method: 'POST', status_code: '400' })).toBe(1);
    expect(requests({ route: 'none', method: 'GET', status_code: '401' })).toBe(1);
    expect(requests({ route: 'none', method: 'GET', status_code: '404' })).toBe(1);
    expect(requests({ route: '/admin/queues/api/queues', method: 'GET', status_code: '200' })).toBe(1);
    // Every request has a bucket series; no label anywhere holds a job id.
    expect(metrics.value('llmq_http_request_duration_seconds_bucket', { route: '/v1/jobs/:id', le: '+Inf' })).toBe(3);
    expect(text).not.toContain(id);
  });
});
