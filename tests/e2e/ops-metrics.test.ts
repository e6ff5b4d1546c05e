import { readFile } from 'node:fs/promises';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appEntry, freePort, startAppProcess, startLlmqStack, type Stack } from '@llmq/devkit';
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../packages/core/src/webhooks/__fixtures__/webhook-receiver.js';
import { llmqClient, type JobView } from '../support/llmq-client.js';
import { dashboardProblems, dashboardQueries } from '../support/grafana-dashboard-queries.js';
import { PrometheusMetrics } from '../support/prometheus-text.js';
import { createRedisConnection } from '@llmq/core';
import { allKeys } from '../support/redis-keys.js';

// A model under a tight limit (6 at once, then about 5/s), so some jobs wait their turn.
const CONFIG = `
limits:
  openai/limited-model: { rpm: 300 }
webhooks:
  allow_cidrs: ["127.0.0.2/32"]
batching:
  batch_api_lines: run
`;

let stack: Stack;
let receiver: WebhookReceiver;
let client: ReturnType<typeof llmqClient>;

beforeAll(async () => {
  [stack, receiver] = await Promise.all([
    startLlmqStack({ workers: 2, config: CONFIG }),
    startWebhookReceiver({ host: '127.0.0.2' }),
  ]);
  receiver.handle((_request, response) => response.writeHead(204).end());
  client = llmqClient(stack);
}, 60_000);

afterAll(async () => {
  await Promise.all([stack?.stop(), receiver?.close()]);
});

const chat = (model: string, content: string, extra: Record<string, unknown> = {}) => ({
  type: 'chat',
  request: { model, messages: [{ role: 'user', content }], max_tokens: 12 },
  ...extra,
});

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
}

/** The scrapes after the run of mixed jobs, for the dashboard's check. */
let afterRun: string[] | undefined;

describe('metrics after a run of mixed jobs', () => {
  it('count exactly what happened, across the API and both workers', async () => {
    await client.faults([
      { match: { model: 'broke-model' }, fault: 'insufficient_quota' },
      { match: { model: 'flaky-model' }, fault: '429', count: 2, retry_after_ms: 100 },
    ]);
    const submissions = [
      ...Array.from({ length: 10 }, (_, index) =>
        chat('openai/gpt-4o-mini', `plain ${index}`, index < 4 ? { webhook: { url: `${receiver.url}/hook` } } : {}),
      ),
      ...Array.from({ length: 10 }, (_, index) => chat('openai/limited-model', `limited ${index}`)),
      ...Array.from({ length: 2 }, (_, index) => chat('openai/flaky-model', `flaky ${index}`, { attempts: 3 })),
      ...Array.from({ length: 3 }, (_, index) => chat('openai/broke-model', `broke ${index}`)),
      // Quota exhausted falls back at once: one call to broke-model, then one to gpt-4o-mini.
      chat('openai/broke-model', 'falls back', { fallbacks: ['openai/gpt-4o-mini'] }),
      ...Array.from({ length: 4 }, (_, index) => ({
        type: 'embedding',
        request: { model: 'openai/text-embedding-3-small', input: [`text ${index}`, `more ${index}`] },
      })),
    ];
    const accepted = await Promise.all(submissions.map((body) => client.submit(body)));
    expect(accepted.every((answer) => answer.status === 202)).toBe(true);
    // One repeat with an Idempotency-Key: a replay, not a job.
    const keyed = {
      authorization: `Bearer ${stack.keys.alpha}`,
      'content-type': 'application/json',
      'idempotency-key': 'ops-1',
    };
    const replayBody = JSON.stringify(chat('openai/gpt-4o-mini', 'keyed'));
    const first = await fetch(`${stack.apiUrl}/v1/jobs`, { method: 'POST', headers: keyed, body: replayBody });
    const again = await fetch(`${stack.apiUrl}/v1/jobs`, { method: 'POST', headers: keyed, body: replayBody });
    const keyedId = ((await first.json()) as { id: string }).id;
    expect(((await again.json()) as { id: string }).id).toBe(keyedId);

    const ids = [...accepted.map((answer) => String(answer.body.id)), keyedId];
    const jobs: JobView[] = await Promise.all(ids.map((id) => client.waitForEnd(id, 30_000)));
    const succeeded = jobs.filter((job) => job.status === 'succeeded');
    const failed = jobs.filter((job) => job.status === 'failed');
    expect([succeeded.length, failed.length]).toEqual([28, 3]);
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(4);

    // Ends are counted by the end dispatcher, which reads the outbox after the transition: wait for all 31.
    const endsCounted = async () =>
      new PrometheusMetrics(await Promise.all(stack.workerMetricsUrls.map(scrape))).count('llmq_job_duration_seconds');
    await expect.poll(endsCounted, { timeout: 20_000 }).toBe(31);
    const [apiText, ...workerTexts] = await Promise.all([
      scrape(`${stack.apiUrl}/metrics`),
      ...stack.workerMetricsUrls.map(scrape),
    ]);
    const api = new PrometheusMetrics(apiText ?? '');
    const workers = new PrometheusMetrics(workerTexts);
    afterRun = [apiText ?? '', ...workerTexts];

    // API: what was accepted, and the queues as Redis has them now.
    expect(api.value('llmq_jobs_submitted_total', { type: 'chat' })).toBe(27);
    expect(api.value('llmq_jobs_submitted_total', { type: 'embedding' })).toBe(4);
    expect(api.value('llmq_idempotent_replays_total')).toBe(1);
    expect(api.value('llmq_queue_jobs', { queue: 'llm-jobs', state: 'completed' })).toBe(28);
    expect(api.value('llmq_queue_jobs', { queue: 'llm-jobs', state: 'failed' })).toBe(3);
    expect(api.value('llmq_queue_jobs', { queue: 'llm-jobs', state: 'wait' })).toBe(0);
    expect(api.value('llmq_queue_jobs', { queue: 'webhooks', state: 'completed' })).toBe(4);
    expect(api.value('llmq_queue_oldest_job_age_seconds', { queue: 'llm-jobs', state: 'wait' })).toBe(0);
    expect(api.labels('llmq_queue_oldest_job_age_seconds')).toHaveLength(6);

    // API requests by route template: 31 jobs and one replay accepted, each job polled to its end.
    const requests = (labels: Record<string, string>) => api.count('llmq_http_request_duration_seconds', labels);
    expect(requests({ route: '/v1/jobs', method: 'POST', status_code: '202' })).toBe(32);
    expect(requests({ route: '/v1/jobs/:id', method: 'GET', status_code: '200' })).toBeGreaterThanOrEqual(31);
    expect(
      api.labels('llmq_http_request_duration_seconds_count').every((labels) => !labels.route?.includes('job_')),
    ).toBe(true);

    // Workers, summed as Prometheus would: each job once, by type and outcome.
    expect(workers.value('llmq_jobs_finished_total', { type: 'chat', status: 'succeeded' })).toBe(24);
    expect(workers.value('llmq_jobs_finished_total', { type: 'embedding', status: 'succeeded' })).toBe(4);
    expect(workers.value('llmq_jobs_finished_total', { type: 'chat', status: 'failed' })).toBe(3);
    // Each end once, by the model asked for and its outcome; every job started, so each has a queue wait.
    const ends = (labels: Record<string, string>) => workers.count('llmq_job_duration_seconds', labels);
    expect([ends({ outcome: 'succeeded' }), ends({ outcome: 'failed' })]).toEqual([28, 3]);
    expect(ends({ model: 'openai/broke-model', outcome: 'failed' })).toBe(3);
    expect(ends({ model: 'openai/broke-model', outcome: 'succeeded' })).toBe(1);
    expect(ends({ model: 'openai/limited-model', type: 'chat', outcome: 'succeeded' })).toBe(10);
    expect(workers.count('llmq_queue_wait_seconds')).toBe(31);
    expect(
      workers.count('llmq_queue_wait_seconds', { model: 'openai/text-embedding-3-small', type: 'embedding' }),
    ).toBe(4);

    const calls = (outcome: string) => workers.count('llmq_provider_call_duration_seconds', { outcome });
    expect([calls('success'), calls('rate_limit'), calls('quota_exceeded')]).toEqual([28, 2, 4]);
    expect(workers.value('llmq_retries_total')).toBe(2);
    expect(workers.value('llmq_retries_total', { model: 'openai/flaky-model' })).toBe(2);
    expect(workers.labels('llmq_fallbacks_total')).toEqual([
      { model: 'openai/gpt-4o-mini', from: 'openai/broke-model' },
    ]);
    expect(workers.value('llmq_fallbacks_total')).toBe(1);
    expect(workers.value('llmq_provider_calls_in_flight')).toBe(0);
    expect(workers.value('llmq_provider_rate_limited_total', { model: 'openai/flaky-model' })).toBe(2);
    expect(workers.count('llmq_provider_call_duration_seconds')).toBe((await client.stats()).requests.total);

    const usage = (direction: 'input_tokens' | 'output_tokens') =>
      succeeded.reduce(
        (total, job) => total + ((job as unknown as { usage: Record<string, number> }).usage[direction] ?? 0),
        0,
      );
    expect(workers.value('llmq_provider_tokens_total', { direction: 'input' })).toBe(usage('input_tokens'));
    expect(workers.value('llmq_provider_tokens_total', { direction: 'output' })).toBe(usage('output_tokens'));

    expect(workers.value('llmq_limiter_waits_total', { model: 'openai/limited-model' })).toBeGreaterThan(0);
    // Each limited job's first admission, by tenant, and the capacity the tenant took: 10 calls at RPM 300, 2 s.
    expect(workers.count('llmq_queue_wait_by_tenant_seconds', { model: 'openai/limited-model', tenant: 'alpha' })).toBe(
      10,
    );
    const capacity = workers.value('llmq_limiter_capacity_used_seconds_total', {
      model: 'openai/limited-model',
      tenant: 'alpha',
    });
    expect(capacity).toBeGreaterThan(1.9);
    expect(capacity).toBeLessThan(2.1);
    expect(workers.count('llmq_limiter_wait_seconds', { model: 'openai/limited-model' })).toBe(
      workers.value('llmq_limiter_waits_total', { model: 'openai/limited-model' }),
    );
    // Per tenant: every job was alpha's; its tokens are the providers' reported usage, its cost the models' total.
    expect(workers.labels('llmq_tenant_cost_usd_total').map((labels) => labels.tenant)).toContain('alpha');
    expect(workers.value('llmq_tenant_tokens_total', { tenant: 'alpha', direction: 'input' })).toBe(
      usage('input_tokens'),
    );
    expect(workers.value('llmq_tenant_tokens_total', { tenant: 'alpha', direction: 'output' })).toBe(
      usage('output_tokens'),
    );
    expect(workers.value('llmq_tenant_cost_usd_total', { tenant: 'alpha' })).toBeCloseTo(
      workers.value('llmq_cost_usd_total'),
      9,
    );
    expect(workers.value('llmq_webhook_deliveries_total', { outcome: 'delivered' })).toBe(4);
    expect(workers.value('llmq_circuit_state', { model: 'openai/gpt-4o-mini', state: 'closed' })).toBeGreaterThan(0);
    expect(workers.value('llmq_circuit_state', { model: 'openai/gpt-4o-mini', state: 'open' })).toBe(0);
  });

  it("the Grafana dashboard's queries use only metrics and labels the run's scrapes have", async () => {
    expect(afterRun).toBeDefined();
    // The OpenAI-compatible routes' series: a chat, a stream and embeddings through the SDK.
    const openai = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.keys.alpha ?? '', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'dashboard' }];
    await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages, max_tokens: 5 });
    const stream = await openai.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages,
      max_tokens: 5,
      stream: true,
    });
    for await (const _chunk of stream);
    await openai.embeddings.create({ model: 'openai/text-embedding-3-small', input: 'dashboard' });
    // The batch series: a one-line batch run to its end.
    const input = await openai.files.create({
      file: await toFile(
        Buffer.from(
          `${JSON.stringify({ custom_id: 'dashboard', method: 'POST', url: '/v1/chat/completions', body: { model: 'openai/gpt-4o-mini', messages, max_tokens: 5 } })}\n`,
        ),
        'dashboard.jsonl',
      ),
      purpose: 'batch',
    });
    const batch = await openai.batches.create({
      input_file_id: input.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    while ((await openai.batches.retrieve(batch.id)).status !== 'completed') {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const scraped = new PrometheusMetrics([...(afterRun ?? []), await scrape(`${stack.apiUrl}/metrics`)]);
    const dashboard = JSON.parse(await readFile(new URL('../../ops/grafana/llmq.json', import.meta.url), 'utf8'));
    const uses = dashboardQueries(dashboard);
    expect(uses.length).toBeGreaterThan(25);
    // The parse found what each query reads: a metric in every query, label matchers and groupings in many.
    expect(uses.filter((use) => use.selectors.length === 0).map((use) => use.where)).toEqual([]);
    expect(uses.filter((use) => use.selectors.some((selector) => selector.matchers.length > 0)).length).toBeGreaterThan(
      10,
    );
    expect(uses.filter((use) => use.labels.includes('le')).length).toBeGreaterThan(5);
    expect(dashboardProblems(uses, scraped)).toEqual([]);
  });

  it('a worker serves its metrics on loopback only, unless given a token for another interface', async () => {
    const loopbackOnly = new URL(stack.workerMetricsUrls[0] ?? '');
    // Bound to 127.0.0.1: another address of this machine (127.0.0.2) is refused.
    await expect(fetch(`http://127.0.0.2:${loopbackOnly.port}/metrics`)).rejects.toThrow();

    // Real worker processes; generous start times, as the machine may be busy.
    const port = await freePort();
    const worker = (env: Record<string, string>) =>
      startAppProcess({
        name: 'worker-metrics-host',
        entry: appEntry('worker'),
        env: { REDIS_URL: stack.redisUrl, WORKER_METRICS_PORT: String(port), WORKER_METRICS_HOST: '0.0.0.0', ...env },
        readyWhen: 'worker ready',
        readyTimeoutMs: 120_000,
      });
    await expect(worker({})).rejects.toThrow(
      'WORKER_METRICS_HOST: 0.0.0.0 is not a loopback address: set LLMQ_METRICS_TOKEN to serve metrics beyond this machine',
    );
    const withToken = await worker({ LLMQ_METRICS_TOKEN: 'scrape-token-0123456789' });
    try {
      const url = `http://127.0.0.2:${port}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      const answer = await fetch(url, { headers: { authorization: 'Bearer scrape-token-0123456789' } });
      expect(answer.status).toBe(200);
      expect(new PrometheusMetrics(await answer.text()).has('llmq_job_duration_seconds')).toBe(true);
    } finally {
      await withToken.stop();
    }
  }, 300_000);

  it('every key llmq wrote carries a hash tag, so each Lua script stays in one cluster slot', async () => {
    const redis = createRedisConnection(stack.redisUrl);
    // The API rate-limit window lives one second: a request now keeps its key there for the scan.
    await client.get('job_00000000000000000000000000');
    try {
      const keys = await allKeys(redis);
      expect(keys.length).toBeGreaterThan(50);
      expect(keys.filter((key) => !/\{[^{}]+\}/.test(key))).toEqual([]);
      expect(keys.some((key) => key.startsWith('llmq:{t:alpha}:idempotency:'))).toBe(true);
      expect(keys.some((key) => key === 'llmq:{t:alpha}:api-rate')).toBe(true);
    } finally {
      await redis.quit();
    }
  });
});
