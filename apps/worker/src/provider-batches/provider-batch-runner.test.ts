import { Anthropic } from '@anthropic-ai/sdk';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  batchingConfigSchema,
  createJobId,
  createLlmQueue,
  createLogger,
  estimatePromptTokens,
  JobStore,
  type ChatRequest,
  type LlmJobData,
  type JobSubmission,
} from '@llmq/core';
import { redisTest } from '@llmq/devkit/vitest';
import { createSimulator, type Simulator } from '@llmq/simulator';
import { PrometheusMetrics } from '../../../../tests/support/prometheus-text.js';
import { WorkerMetrics } from '../metrics/worker-metrics.js';
import { AnthropicBatchApi } from './anthropic-batch-api.js';
import { OpenAIBatchApi } from './openai-batch-api.js';
import { startProviderBatchRunner } from './provider-batch-runner.js';
import { groupOf, ProviderBatchStore, type BatchMember, type LineState } from './provider-batch-store.js';

let simulator: Simulator;
let api: OpenAIBatchApi;
let openai: OpenAI;
let anthropic: AnthropicBatchApi;
beforeAll(async () => {
  simulator = createSimulator({ batchProcessingMs: 50 });
  const { url } = await simulator.listen(0);
  openai = new OpenAI({ apiKey: 'sk-simulator-test', baseURL: `${url}/v1`, maxRetries: 0 });
  api = new OpenAIBatchApi(openai);
  anthropic = new AnthropicBatchApi(new Anthropic({ apiKey: 'sk-ant-simulator', baseURL: url, maxRetries: 0 }), {
    defaultMaxTokens: 64,
  });
});
afterAll(() => simulator.close());

const TENANT = 'batcher';

const test = redisTest.extend('parts', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = createLlmQueue({ connection: redis });
  onCleanup(async () => {
    await queue.close();
    await redis.quit();
  });
  return { redis, queue, jobs: new JobStore({ redis }), batches: new ProviderBatchStore(redis) };
});

/** Job records of chat requests on `modelId`, each gathered into the group of that model. */
async function gathered(
  parts: { jobs: JobStore; batches: ProviderBatchStore },
  modelId: string,
  contents: string[],
  options: { countTokens?: boolean } = {},
): Promise<Array<BatchMember & { request: ChatRequest }>> {
  const members: Array<BatchMember & { request: ChatRequest }> = [];
  // One at a time, so the group's order is the order of `contents`.
  for (const content of contents) {
    const request: ChatRequest = { model: `openai/${modelId}`, messages: [{ role: 'user', content }] };
    const submission: JobSubmission = { type: 'chat', request };
    const member: BatchMember = { tenant: TENANT, jobId: createJobId() };
    if (options.countTokens) member.tokens = await estimatePromptTokens(request, 'openai');
    await parts.jobs.create({ ...member, submission, createdAt: Date.now() });
    await parts.batches.gather(groupOf('openai', modelId, 'chat'), member, Date.now() + 3_600_000);
    members.push({ ...member, request });
  }
  return members;
}

const lineStates = (batches: ProviderBatchStore, members: BatchMember[]) =>
  Promise.all(members.map(async (member) => (await batches.line(member))?.state));
const answeredBatchIds = async (batches: ProviderBatchStore, members: BatchMember[]) =>
  Promise.all(
    members.map(async (member) => {
      const line = (await batches.line(member)) as LineState & { batchId?: string };
      return line.batchId;
    }),
  );
const logger = createLogger({ name: 'provider-batch-runner-test', level: 'silent' });

/** The runner over the test's Redis, quick ticks and polls, with the OpenAI batch API unless told otherwise. */
const startRunner = (
  parts: { batches: ProviderBatchStore; jobs: JobStore; queue: Queue<LlmJobData> },
  options: Partial<Parameters<typeof startProviderBatchRunner>[0]> & { batching?: Record<string, unknown> } = {},
) => {
  const { batching, ...rest } = options;
  return startProviderBatchRunner({
    store: parts.batches,
    jobs: parts.jobs,
    queue: parts.queue,
    apis: new Map([['openai', api]]),
    config: batchingConfigSchema.parse({ max_wait_s: 0.05, poll_first_s: 0.1, poll_max_s: 0.2, ...batching }),
    logger,
    tickMs: 50,
    ...rest,
  });
};

describe('provider batch runner', () => {
  test('a sender that died after creating its batch and before recording it: the batch is adopted, not made twice', async ({
    parts,
  }) => {
    const modelId = 'gpt-4o-mini';
    const members = await gathered(parts, modelId, ['adopt one', 'adopt two', 'adopt three']);
    // What the dead sender did: took the group's jobs into an intent and created the batch.
    const intent = await parts.batches.take(groupOf('openai', modelId, 'chat'), 100, 100, 0);
    expect(intent?.members).toHaveLength(3);
    const created = await api.create({
      modelId,
      lines: members.map((member) => ({ customId: member.jobId, body: api.chatLine(member.request, modelId) })),
      intent: intent?.id ?? '',
    });
    expect(await parts.batches.intent(intent?.id ?? '')).toMatchObject({ batchId: null, sentAt: null });

    const runner = startRunner(parts, { batching: { max_wait_s: 60 } });
    try {
      await expect
        .poll(() => lineStates(parts.batches, members), { timeout: 10_000 })
        .toEqual(['answered', 'answered', 'answered']);
    } finally {
      await runner.close();
    }
    expect(await answeredBatchIds(parts.batches, members)).toEqual([created, created, created]);
    const submissions = simulator.batchSubmissions('openai');
    for (const member of members) expect(submissions[member.jobId]).toBe(1);
    const batches = await openai.batches.list({ limit: 100 });
    expect(batches.data.filter((batch) => batch.metadata?.llmq_intent === intent?.id)).toHaveLength(1);
  });

  test('lines past max_bytes go back to their group and leave in its next batch', async ({ parts }) => {
    const modelId = 'gpt-4.1-mini';
    const contents = ['bytes one', 'bytes two', 'bytes six', 'bytes ten'];
    const members = await gathered(parts, modelId, contents);
    const lineBytes = Math.max(
      ...members.map((member) => Buffer.byteLength(JSON.stringify(api.chatLine(member.request, modelId))) + 128),
    );
    const metrics = new WorkerMetrics({ processMetrics: false });
    // Room for two lines a batch, not three.
    const runner = startRunner(parts, { metrics, batching: { max_bytes: lineBytes * 2 + Math.floor(lineBytes / 2) } });
    try {
      await expect
        .poll(() => lineStates(parts.batches, members), { timeout: 10_000 })
        .toEqual(['answered', 'answered', 'answered', 'answered']);
    } finally {
      await runner.close();
    }
    const batchIds = await answeredBatchIds(parts.batches, members);
    expect(new Set(batchIds).size).toBe(2);
    expect(batchIds.filter((id) => id === batchIds[0])).toHaveLength(2);
    const submissions = simulator.batchSubmissions('openai');
    for (const member of members) expect(submissions[member.jobId]).toBe(1);
    expect((await parts.batches.groupSize(groupOf('openai', modelId, 'chat'))).count).toBe(0);
    const scraped = new PrometheusMetrics(await metrics.registry.metrics());
    expect(scraped.value('llmq_provider_batches_sent_total', { provider: 'openai' })).toBe(2);
    expect(scraped.sum('llmq_provider_batch_requests', { provider: 'openai' })).toBe(4);
    expect(scraped.count('llmq_provider_batch_duration_seconds', { provider: 'openai', status: 'completed' })).toBe(2);
  });
  test("a model's batches stay within its enqueued tokens: a batch waits for the one before it to end, never refused", async ({
    parts,
  }) => {
    const modelId = 'gpt-4o';
    const contents = Array.from({ length: 6 }, (_, index) => `Summarise the enqueued token story, part ${index}`);
    const members = await gathered(parts, modelId, contents, { countTokens: true });
    const tooBig = await gathered(parts, modelId, ['a prompt far larger than the bound: '.repeat(40)], {
      countTokens: true,
    });
    const perLine = Math.max(...members.map((member) => member.tokens ?? 0));
    const limit = perLine * 4;
    // The provider refuses a batch past its bound (with room for our count being a little low).
    simulator.configure({ batchProcessingMs: 400, batchEnqueuedTokens: limit + 6 * 4 });
    const metrics = new WorkerMetrics({ processMetrics: false });
    const runner = startRunner(parts, {
      metrics,
      enqueuedTokenLimit: (model) => (model === `openai/${modelId}` ? limit : undefined),
    });
    try {
      await expect
        .poll(() => lineStates(parts.batches, [...members, ...tooBig]), { timeout: 15_000 })
        .toEqual([...members.map(() => 'answered'), 'left']);
    } finally {
      await runner.close();
      simulator.configure({ batchProcessingMs: 50, batchEnqueuedTokens: null });
    }
    const batchIds = await answeredBatchIds(parts.batches, members);
    expect(batchIds.filter((id) => id === batchIds[0])).toHaveLength(4);
    expect(new Set(batchIds).size).toBe(2);
    const batches = await Promise.all([...new Set(batchIds)].map((id) => openai.batches.retrieve(id ?? '')));
    expect(batches.map((batch) => batch.status)).toEqual(['completed', 'completed']);
    // The second was created only once the first had ended.
    const [first, second] = batches.sort((left, right) => left.created_at - right.created_at);
    expect(second?.created_at).toBeGreaterThanOrEqual(first?.completed_at ?? Infinity);
    expect(((await parts.batches.line(tooBig[0] as BatchMember)) as { reason: string }).reason).toContain(
      'batch_enqueued_tokens',
    );
    expect(await parts.batches.enqueued(`openai/${modelId}`)).toBe(0);
    const scraped = new PrometheusMetrics(await metrics.registry.metrics());
    expect(scraped.value('llmq_provider_batch_enqueued_tokens', { model: `openai/${modelId}` })).toBeLessThanOrEqual(
      limit,
    );
  });
  test("a request the provider's batch format cannot carry fails its own job; the rest of its group is sent", async ({
    parts,
  }) => {
    const modelId = 'claude-haiku-4-5';
    const group = groupOf('anthropic', modelId, 'chat');
    const member = async (request: ChatRequest) => {
      const created = { tenant: TENANT, jobId: createJobId() };
      await parts.jobs.create({ ...created, submission: { type: 'chat', request }, createdAt: Date.now() });
      await parts.batches.gather(group, created, Date.now() + 3_600_000);
      return created;
    };
    const model = `anthropic/${modelId}`;
    // Anthropic's API version no longer takes temperature: no batch line can carry it.
    const refused = await member({ model, messages: [{ role: 'user', content: 'warm' }], temperature: 0.5 });
    const fine = await member({ model, messages: [{ role: 'user', content: 'plain' }] });
    const runner = startRunner(parts, { apis: new Map([['anthropic', anthropic]]) });
    try {
      await expect
        .poll(() => lineStates(parts.batches, [refused, fine]), { timeout: 10_000 })
        .toEqual(['failed', 'answered']);
    } finally {
      await runner.close();
    }
    expect(await parts.batches.line(refused)).toMatchObject({
      state: 'failed',
      error: { kind: 'invalid_request', message: expect.stringContaining('temperature') },
    });
    expect(simulator.batchSubmissions('anthropic')[refused.jobId]).toBeUndefined();
  });
});
