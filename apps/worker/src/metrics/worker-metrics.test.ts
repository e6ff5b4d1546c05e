import { describe, expect, it } from 'vitest';
import { ProviderError, type JobRecord, type JobSubmission } from '@llmq/core';
import { PrometheusMetrics } from '../../../../tests/support/prometheus-text.js';
import { meterProviderCall } from './metered-parts.js';
import { WorkerMetrics } from './worker-metrics.js';
import { startWorkerMetricsServer } from './worker-metrics-server.js';

const scrape = async (metrics: WorkerMetrics) => new PrometheusMetrics(await metrics.registry.metrics());

const record = (attempts: number): JobRecord =>
  ({
    id: 'job_1',
    tenant: 'a',
    submission: { type: 'chat' } as JobSubmission,
    createdAt: 1_000,
    startedAt: 3_500,
    attempts,
  }) as JobRecord;

describe('WorkerMetrics', () => {
  it('meters provider calls: latency by outcome, tokens, 429s, and queue wait on the first call only', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });
    const reference = { provider: 'openai', modelId: 'gpt-4o-mini' };
    const usage = { input_tokens: 12, output_tokens: 30 };
    const failure: { error?: ProviderError } = {};
    const call = meterProviderCall(async () => {
      if (failure.error) throw failure.error;
      return { result: {}, usage };
    }, metrics);
    const options = { signal: new AbortController().signal, timeoutMs: 1_000 };
    await call(record(1), reference, options);
    await call(record(2), reference, options);
    failure.error = new ProviderError({ provider: 'openai', kind: 'rate_limit', message: '429' });
    await expect(call(record(3), reference, options)).rejects.toBe(failure.error);

    const parsed = await scrape(metrics);
    const labels = { provider: 'openai', model: 'openai/gpt-4o-mini' };
    expect(parsed.count('llmq_provider_call_duration_seconds', { ...labels, outcome: 'success' })).toBe(2);
    expect(parsed.count('llmq_provider_call_duration_seconds', { ...labels, outcome: 'rate_limit' })).toBe(1);
    expect(parsed.value('llmq_provider_tokens_total', { ...labels, direction: 'input' })).toBe(24);
    expect(parsed.value('llmq_provider_tokens_total', { ...labels, direction: 'output' })).toBe(60);
    expect(parsed.value('llmq_provider_rate_limited_total', labels)).toBe(1);
    expect(parsed.count('llmq_queue_wait_seconds', { type: 'chat' })).toBe(1);
    expect(parsed.sum('llmq_queue_wait_seconds', { type: 'chat' })).toBe(2.5);
  });

  it('keeps at most maxModels model labels; the rest are "other"', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false, maxModels: 2 });
    for (const model of ['p/a', 'p/b', 'p/c', 'p/d']) metrics.limiterWait(model, 500);
    const parsed = await scrape(metrics);
    expect(parsed.labels('llmq_limiter_waits_total').map((labels) => labels.model)).toEqual(['p/a', 'p/b', 'other']);
    expect(parsed.value('llmq_limiter_waits_total', { model: 'other' })).toBe(2);
    expect(parsed.value('llmq_limiter_wait_seconds_total')).toBe(2);
  });

  it('shows one circuit state per model', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });
    metrics.circuit('p/a', 'closed');
    metrics.circuit('p/a', 'open');
    const parsed = await scrape(metrics);
    expect(parsed.value('llmq_circuit_state', { model: 'p/a', state: 'open' })).toBe(1);
    expect(parsed.value('llmq_circuit_state', { model: 'p/a', state: 'closed' })).toBe(0);
  });
});

describe('jobEnded', () => {
  it('counts an end by its type and status, and its spend; a cancel is not a finish', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });
    const spend = {
      tenant: 'a',
      model: 'openai/gpt-4o-mini',
      inputTokens: 10,
      outputTokens: 5,
      costNano: 2_500_000_000,
      savedNano: 0,
      savedInputTokens: 0,
      savedOutputTokens: 0,
      cached: null,
    };
    metrics.jobEnded({ tenant: 'a', jobId: 'j1', status: 'succeeded', type: 'embedding', spend, cache: null });
    metrics.jobEnded({ tenant: 'a', jobId: 'j2', status: 'failed', type: null, spend: null, cache: null });
    metrics.jobEnded({ tenant: 'a', jobId: 'j3', status: 'canceled', type: 'chat', spend: null, cache: null });
    const parsed = await scrape(metrics);
    expect(parsed.value('llmq_jobs_finished_total', { type: 'embedding', status: 'succeeded' })).toBe(1);
    expect(parsed.value('llmq_jobs_finished_total', { type: 'unknown', status: 'failed' })).toBe(1);
    expect(parsed.value('llmq_jobs_finished_total')).toBe(2);
    expect(parsed.value('llmq_cost_usd_total', { model: 'openai/gpt-4o-mini' })).toBe(2.5);
  });
});

describe('worker metrics server', () => {
  it('serves /metrics (behind the token when set) and the one error body elsewhere', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });
    metrics.jobFinished('chat', 'succeeded');
    const server = await startWorkerMetricsServer({
      registry: metrics.registry,
      port: 0,
      host: '127.0.0.1',
      token: 't0ken',
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const answer = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer t0ken' } });
      expect(answer.status).toBe(200);
      expect(new PrometheusMetrics(await answer.text()).value('llmq_jobs_finished_total')).toBe(1);
      const missing = await fetch(`${base}/other`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ error: { type: 'not_found', message: 'no route for GET /other' } });

      await expect(
        startWorkerMetricsServer({ registry: metrics.registry, port: server.port, host: '127.0.0.1' }),
      ).rejects.toThrow(
        `WORKER_METRICS_PORT ${server.port} is taken: give each worker on a machine its own port, 0 for any free one, or "off"`,
      );
    } finally {
      await server.close();
    }
  });
});
