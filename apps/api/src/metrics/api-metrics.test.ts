import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { PrometheusMetrics } from '../../../../tests/support/prometheus-text.js';
import { chatSubmission, startTestApi } from '../__fixtures__/test-api.js';

const METRICS_TOKEN = 'metrics-token-0123456789';

const test = redisTest.extend('api', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const api = await startTestApi({ redisUrl, config: { metricsToken: METRICS_TOKEN } });
  onCleanup(() => api.close());
  return api;
});

const embedding = { type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: 'x' } };

describe('API /metrics', () => {
  test('counts submissions by type, replays and cancellations, and reads queue depth from Redis', async ({ api }) => {
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      api.call('/v1/jobs', { method: 'POST', body: JSON.stringify(body), headers });
    const chats = await Promise.all([1, 2, 3].map((index) => post(chatSubmission(`metrics ${index}`))));
    await post(embedding);
    await post(chatSubmission('replayed'), { 'idempotency-key': 'metrics-key' });
    await post(chatSubmission('replayed'), { 'idempotency-key': 'metrics-key' });
    await api.call('/v1/jobs/batch', { method: 'POST', body: JSON.stringify({ jobs: [embedding, embedding] }) });
    await post({ type: 'chat' });
    expect((await api.call(`/v1/jobs/${String(chats[0]?.body?.id)}`, { method: 'DELETE' })).status).toBe(200);

    const refused = await api.call('/metrics', { key: null });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="llmq-metrics"');
    const answer = await api.call('/metrics', { key: null, headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const metrics = new PrometheusMetrics(answer.text);
    expect(metrics.value('llmq_jobs_submitted_total', { type: 'chat' })).toBe(4);
    expect(metrics.value('llmq_jobs_submitted_total', { type: 'embedding' })).toBe(3);
    expect(metrics.value('llmq_idempotent_replays_total')).toBe(1);
    expect(metrics.value('llmq_jobs_canceled_total')).toBe(1);
    expect(metrics.value('llmq_queue_scrape_ok')).toBe(1);
    expect(metrics.value('llmq_queue_jobs', { queue: 'llm-jobs', state: 'wait' })).toBe(6);
    expect(metrics.value('llmq_queue_jobs', { queue: 'webhooks', state: 'wait' })).toBe(0);
    expect(metrics.has('process_resident_memory_bytes')).toBe(true);
  });
});
