import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { llmqClient, type SimulatorRequest } from '../support/llmq-client.js';
import { PrometheusMetrics } from '../support/prometheus-text.js';
import type { BatchedJob } from '../support/batched-job.js';

let stack: Stack;
let client: ReturnType<typeof llmqClient>;

// Batches that expire before they answer: every deferrable job leaves its batch for the flex tier.
beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 1,
    simulatorEnv: { SIM_BATCH_PROCESSING_MS: '60000', SIM_BATCH_EXPIRY_MS: '800' },
    config: [
      'batching:',
      '  max_wait_s: 0.3',
      '  poll_first_s: 0.3',
      '  poll_max_s: 0.5',
      '  deadline_margin_s: 5',
      '  flex: [openai, google]',
    ].join('\n'),
  });
  client = llmqClient(stack);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const deferrable = (model: string, content: string) => ({
  type: 'chat',
  completion_window: '24h',
  request: { model, messages: [{ role: 'user', content }], max_tokens: 20 },
});
async function submit(body: unknown): Promise<string> {
  const submitted = await client.submit(body);
  expect(submitted.status).toBe(202);
  return String(submitted.body.id);
}
const end = async (id: string) => (await client.waitForEnd(id, 30_000)) as unknown as BatchedJob;
const callsSince = async (since: number, path: string) =>
  (await client.requests()).filter((request: SimulatorRequest) => request.time >= since && request.path === path);
const nano = (usd: number | null) => Math.round((usd ?? 0) * 1e9);

describe('the flex tier between batch and standard', () => {
  it.each([
    ['openai/gpt-4o-mini', '/v1/chat/completions'],
    ['google/gemini-2.5-flash', '/v1beta/models/gemini-2.5-flash:streamGenerateContent'],
  ])('a job of %s whose batch expired is answered at the flex tier, at the batch price', async (model, path) => {
    const started = Date.now();
    const job = await end(await submit(deferrable(model, `Flex answer for ${model}.`)));
    expect(job).toMatchObject({ status: 'succeeded', answered_by: model });
    const calls = await callsSince(started, path);
    expect(calls.map((call) => [call.status, call.serviceTier])).toEqual([[200, 'flex']]);
    expect(nano(job.cost_usd)).toBeGreaterThan(0);
    expect(nano(job.saved_usd)).toBe(nano(job.cost_usd));
  });

  it('a flex call refused for want of capacity is retried at the standard tier, at the listed price', async () => {
    await client.faults([{ match: { contains: '"service_tier":"flex"' }, fault: '429', count: 1 }]);
    try {
      const started = Date.now();
      const job = await end(await submit(deferrable('openai/gpt-4o-mini', 'Flex is full today.')));
      expect(job).toMatchObject({ status: 'succeeded', saved_usd: 0 });
      const calls = await callsSince(started, '/v1/chat/completions');
      expect(calls.map((call) => [call.status, call.serviceTier ?? 'standard'])).toEqual([
        [429, 'flex'],
        [200, 'standard'],
      ]);
    } finally {
      await client.faults([]);
    }
    const metrics = new PrometheusMetrics(await (await fetch(stack.workerMetricsUrls[0] ?? '')).text());
    expect(metrics.value('llmq_job_path_total', { path: 'flex' })).toBe(2);
    expect(metrics.value('llmq_batch_saved_usd_total', { model: 'openai/gpt-4o-mini' })).toBeGreaterThan(0);
  });
});
