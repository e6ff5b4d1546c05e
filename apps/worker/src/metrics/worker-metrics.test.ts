import { describe, expect, it } from 'vitest';
import { ProviderError, type JobEndNotice, type JobRecord, type JobSubmission } from '@llmq/core';
import { PrometheusMetrics } from '../../../../tests/support/prometheus-text.js';
import { meterProviderCall } from './metered-parts.js';
import { WorkerMetrics } from './worker-metrics.js';
import { startWorkerMetricsServer } from './worker-metrics-server.js';

const scrape = async (metrics: WorkerMetrics) => new PrometheusMetrics(await metrics.registry.metrics());

/** The record a start hands the call: `modelAttempts` counts this call, the log holds the calls before. */
const record = (attempts: number, call: { modelIndex?: number; modelAttempts?: number; before?: string[] } = {}) =>
  ({
    id: 'job_1',
    tenant: 'a',
    submission: { type: 'chat' } as JobSubmission,
    createdAt: 1_000,
    startedAt: 3_500,
    attempts,
    modelIndex: call.modelIndex ?? 0,
    modelAttempts: call.modelAttempts ?? attempts,
    attemptLog: (call.before ?? []).map((model) => ({ model, status: 'failed', started_at: 1, duration_ms: 1 })),
  }) as JobRecord;

const notice = (fields: Partial<JobEndNotice> & Pick<JobEndNotice, 'jobId' | 'status'>): JobEndNotice => ({
  tenant: 'a',
  type: 'chat',
  spend: null,
  cache: null,
  model: 'openai/gpt-4o-mini',
  createdAt: null,
  startedAt: null,
  finishedAt: null,
  ...fields,
});

describe('WorkerMetrics', () => {
  it('meters provider calls: latency by outcome, tokens, 429s', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });
    const reference = { provider: 'openai', modelId: 'gpt-4o-mini' };
    const usage = { input_tokens: 12, output_tokens: 30 };
    const failure: { error?: ProviderError } = {};
    const call = meterProviderCall(async () => {
      if (failure.error) throw failure.error;
      return { result: {}, usage };
    }, metrics);
    const options = { signal: new AbortController().signal, timeoutMs: 1_000 };
    await call(record(1), { reference }, options);
    await call(record(2), { reference }, options);
    await call(record(3), { reference, account: 'team-a' }, options);
    failure.error = new ProviderError({ provider: 'openai', kind: 'rate_limit', message: '429' });
    await expect(call(record(4), { reference, account: 'team-b' }, options)).rejects.toBe(failure.error);

    const parsed = await scrape(metrics);
    const labels = { provider: 'openai', model: 'openai/gpt-4o-mini' };
    expect(parsed.count('llmq_provider_call_duration_seconds', { ...labels, outcome: 'success' })).toBe(3);
    expect(parsed.count('llmq_provider_call_duration_seconds', { ...labels, outcome: 'rate_limit' })).toBe(1);
    expect(parsed.value('llmq_provider_tokens_total', { ...labels, direction: 'input' })).toBe(36);
    expect(parsed.value('llmq_provider_tokens_total', { ...labels, direction: 'output' })).toBe(90);
    // Calls through a provider's accounts are told apart by account.
    expect(parsed.value('llmq_provider_tokens_total', { ...labels, account: 'team-a', direction: 'input' })).toBe(12);
    expect(parsed.value('llmq_provider_rate_limited_total', labels)).toBe(1);
    expect(parsed.value('llmq_provider_rate_limited_total', { ...labels, account: 'team-b' })).toBe(1);
    expect(parsed.value('llmq_provider_rate_limited_total', { ...labels, account: 'team-a' })).toBe(0);
  });

  it('counts retries and fallbacks as their calls start, and the calls in flight by model', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });
    const release: Array<() => void> = [];
    const call = meterProviderCall(async (_record, { reference }) => {
      await new Promise<void>((resolve) => release.push(resolve));
      if (reference.modelId === 'broken')
        throw new ProviderError({ provider: 'p', kind: 'overloaded', message: '529' });
      return { result: {}, usage: { input_tokens: 1, output_tokens: 1 } };
    }, metrics);
    const options = { signal: new AbortController().signal, timeoutMs: 1_000 };
    const [first, broken] = [
      { provider: 'p', modelId: 'first' },
      { provider: 'p', modelId: 'broken' },
    ];
    const running = [
      call(record(1), { reference: first }, options),
      call(record(2, { modelAttempts: 2, before: ['p/first'] }), { reference: first }, options),
      call(
        record(3, { modelIndex: 1, modelAttempts: 1, before: ['p/first', 'p/first'] }),
        { reference: broken },
        options,
      ),
    ];
    await expect.poll(() => release.length).toBe(3);
    const during = await scrape(metrics);
    expect(during.value('llmq_provider_calls_in_flight', { model: 'p/first' })).toBe(2);
    expect(during.value('llmq_provider_calls_in_flight', { model: 'p/broken' })).toBe(1);
    expect(during.value('llmq_retries_total', { model: 'p/first' })).toBe(1);
    expect(during.value('llmq_fallbacks_total', { model: 'p/broken', from: 'p/first' })).toBe(1);
    for (const resolve of release) resolve();
    await Promise.allSettled(running);
    const after = await scrape(metrics);
    // A failed call leaves the gauge too.
    expect(after.value('llmq_provider_calls_in_flight')).toBe(0);
    expect(after.value('llmq_retries_total')).toBe(1);
    expect(after.value('llmq_fallbacks_total')).toBe(1);
  });

  it('keeps each scheduled limiter wait in a histogram by model', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });
    metrics.limiterWait('p/a', 400);
    metrics.limiterWait('p/a', 20_000);
    const parsed = await scrape(metrics);
    expect(parsed.count('llmq_limiter_wait_seconds', { model: 'p/a' })).toBe(2);
    expect(parsed.sum('llmq_limiter_wait_seconds', { model: 'p/a' })).toBe(20.4);
    expect(parsed.value('llmq_limiter_wait_seconds_bucket', { model: 'p/a', le: '0.5' })).toBe(1);
    expect(parsed.value('llmq_limiter_wait_seconds_bucket', { model: 'p/a', le: '30' })).toBe(2);
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
    metrics.jobEnded(notice({ jobId: 'j1', status: 'succeeded', type: 'embedding', spend }));
    metrics.jobEnded(notice({ jobId: 'j2', status: 'failed', type: null }));
    metrics.jobEnded(notice({ jobId: 'j3', status: 'canceled' }));
    const parsed = await scrape(metrics);
    expect(parsed.value('llmq_jobs_finished_total', { type: 'embedding', status: 'succeeded' })).toBe(1);
    expect(parsed.value('llmq_jobs_finished_total', { type: 'unknown', status: 'failed' })).toBe(1);
    expect(parsed.value('llmq_jobs_finished_total')).toBe(2);
    expect(parsed.value('llmq_cost_usd_total', { model: 'openai/gpt-4o-mini' })).toBe(2.5);
  });

  it('observes duration and queue wait by model, type and outcome; a job that never started has no queue wait', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });
    const times = { createdAt: 10_000, startedAt: 12_000, finishedAt: 15_000 };
    metrics.jobEnded(notice({ jobId: 'j1', status: 'succeeded', ...times }));
    metrics.jobEnded(notice({ jobId: 'j2', status: 'canceled', createdAt: 10_000, finishedAt: 10_250 }));
    metrics.jobEnded(notice({ jobId: 'j3', status: 'failed', model: null, ...times }));
    const parsed = await scrape(metrics);
    const succeeded = { model: 'openai/gpt-4o-mini', type: 'chat', outcome: 'succeeded' };
    expect(parsed.sum('llmq_job_duration_seconds', succeeded)).toBe(5);
    expect(parsed.sum('llmq_queue_wait_seconds', succeeded)).toBe(2);
    const canceled = { ...succeeded, outcome: 'canceled' };
    expect(parsed.sum('llmq_job_duration_seconds', canceled)).toBe(0.25);
    expect(parsed.count('llmq_queue_wait_seconds', canceled)).toBe(0);
    expect(parsed.count('llmq_job_duration_seconds', { model: 'unknown', outcome: 'failed' })).toBe(1);
    expect(parsed.count('llmq_job_duration_seconds')).toBe(3);
  });

  it('counts tokens and cost per tenant, the tenants past the cap as "other"', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false, maxTenants: 2 });
    const spendOf = (tenant: string) => ({
      tenant,
      model: 'openai/gpt-4o-mini',
      inputTokens: 100,
      outputTokens: 10,
      costNano: 1_000_000_000,
      savedNano: 0,
      savedInputTokens: 0,
      savedOutputTokens: 0,
      cached: null,
    });
    for (const tenant of ['t1', 't2', 't3', 't4', 't1']) {
      metrics.jobEnded(notice({ tenant, jobId: `j-${tenant}`, status: 'succeeded', spend: spendOf(tenant) }));
    }
    const parsed = await scrape(metrics);
    expect(parsed.labels('llmq_tenant_cost_usd_total').map((labels) => labels.tenant)).toEqual(['t1', 't2', 'other']);
    expect(parsed.value('llmq_tenant_cost_usd_total', { tenant: 't1' })).toBe(2);
    expect(parsed.value('llmq_tenant_cost_usd_total', { tenant: 'other' })).toBe(2);
    expect(parsed.value('llmq_tenant_tokens_total', { tenant: 't1', direction: 'input' })).toBe(200);
    expect(parsed.value('llmq_tenant_tokens_total', { tenant: 'other', direction: 'output' })).toBe(20);
  });
});

describe('WorkerMetrics of the batch path', () => {
  it("counts ends by path; a batch answer's saving is the batch's, not the cache's", async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });
    const spend = {
      tenant: 'a',
      model: 'openai/gpt-4o-mini',
      inputTokens: 100,
      outputTokens: 10,
      costNano: 500_000_000,
      savedNano: 500_000_000,
      savedInputTokens: 0,
      savedOutputTokens: 0,
      cached: null,
    };
    metrics.jobEnded(notice({ jobId: 'j1', status: 'succeeded', spend, path: 'batch' }));
    metrics.jobEnded(notice({ jobId: 'j2', status: 'succeeded', spend, path: 'batch' }));
    metrics.jobEnded(notice({ jobId: 'j3', status: 'succeeded', spend: { ...spend, savedNano: 0, costNano: 1e9 } }));
    metrics.jobEnded(notice({ jobId: 'j4', status: 'canceled' }));
    const parsed = await scrape(metrics);
    expect(parsed.value('llmq_job_path_total', { path: 'batch' })).toBe(2);
    expect(parsed.value('llmq_job_path_total', { path: 'sync' })).toBe(2);
    expect(parsed.value('llmq_batch_saved_usd_total', { model: 'openai/gpt-4o-mini' })).toBe(1);
    expect(parsed.value('llmq_cache_saved_usd_total')).toBe(0);
    expect(parsed.value('llmq_cost_usd_total', { model: 'openai/gpt-4o-mini' })).toBe(2);
  });

  it('observes batches sent, their sizes, and the time from send to end', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });
    metrics.batchSent({ provider: 'openai', requests: 3 });
    metrics.batchSent({ provider: 'openai', requests: 7 });
    metrics.batchEnded({ provider: 'openai', status: 'completed', seconds: 42 });
    const parsed = await scrape(metrics);
    expect(parsed.value('llmq_provider_batches_sent_total', { provider: 'openai' })).toBe(2);
    expect(parsed.count('llmq_provider_batch_requests', { provider: 'openai' })).toBe(2);
    expect(parsed.sum('llmq_provider_batch_requests', { provider: 'openai' })).toBe(10);
    expect(parsed.sum('llmq_provider_batch_duration_seconds', { provider: 'openai', status: 'completed' })).toBe(42);
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
      const refused = await fetch(`${base}/metrics`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="llmq-metrics"');
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
