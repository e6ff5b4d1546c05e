import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../packages/core/src/webhooks/__fixtures__/webhook-receiver.js';
import { llmqClient, type JobView } from '../support/llmq-client.js';
import { PrometheusMetrics } from '../support/prometheus-text.js';

// A model under a tight limit (6 at once, then about 5/s), so some jobs wait their turn.
const CONFIG = `
limits:
  openai/limited-model: { rpm: 300 }
webhooks:
  allow_cidrs: ["127.0.0.2/32"]
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
    expect([succeeded.length, failed.length]).toEqual([27, 3]);
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(4);

    const [apiText, ...workerTexts] = await Promise.all([
      scrape(`${stack.apiUrl}/metrics`),
      ...stack.workerMetricsUrls.map(scrape),
    ]);
    const api = new PrometheusMetrics(apiText ?? '');
    const workers = new PrometheusMetrics(workerTexts);

    // API: what was accepted, and the queues as Redis has them now.
    expect(api.value('llmq_jobs_submitted_total', { type: 'chat' })).toBe(26);
    expect(api.value('llmq_jobs_submitted_total', { type: 'embedding' })).toBe(4);
    expect(api.value('llmq_idempotent_replays_total')).toBe(1);
    expect(api.value('llmq_queue_jobs', { queue: 'llm-jobs', state: 'completed' })).toBe(27);
    expect(api.value('llmq_queue_jobs', { queue: 'llm-jobs', state: 'failed' })).toBe(3);
    expect(api.value('llmq_queue_jobs', { queue: 'llm-jobs', state: 'wait' })).toBe(0);
    expect(api.value('llmq_queue_jobs', { queue: 'webhooks', state: 'completed' })).toBe(4);

    // Workers, summed as Prometheus would: each job once, by type and outcome.
    expect(workers.value('llmq_jobs_finished_total', { type: 'chat', status: 'succeeded' })).toBe(23);
    expect(workers.value('llmq_jobs_finished_total', { type: 'embedding', status: 'succeeded' })).toBe(4);
    expect(workers.value('llmq_jobs_finished_total', { type: 'chat', status: 'failed' })).toBe(3);
    expect(workers.count('llmq_queue_wait_seconds')).toBe(30);

    const calls = (outcome: string) => workers.count('llmq_provider_call_duration_seconds', { outcome });
    expect([calls('success'), calls('rate_limit'), calls('quota_exceeded')]).toEqual([27, 2, 3]);
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
    expect(workers.value('llmq_webhook_deliveries_total', { outcome: 'delivered' })).toBe(4);
    expect(workers.value('llmq_circuit_state', { model: 'openai/gpt-4o-mini', state: 'closed' })).toBeGreaterThan(0);
    expect(workers.value('llmq_circuit_state', { model: 'openai/gpt-4o-mini', state: 'open' })).toBe(0);
  });

  it('every key llmq wrote carries a hash tag, so each Lua script stays in one cluster slot', async () => {
    const redis = new Redis(stack.redisUrl);
    // The API rate-limit window lives one second: a request now keeps its key there for the scan.
    await client.get('job_00000000000000000000000000');
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      expect(keys.length).toBeGreaterThan(50);
      expect(keys.filter((key) => !/\{[^{}]+\}/.test(key))).toEqual([]);
      expect(keys.some((key) => key.startsWith('llmq:{t:alpha}:idempotency:'))).toBe(true);
      expect(keys.some((key) => key === 'llmq:{t:alpha}:api-rate')).toBe(true);
    } finally {
      await redis.quit();
    }
  });
});
