import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimatePromptTokens } from '@llmq/core';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { checkedOpenAi } from '../support/checked-openai.js';
import { llmqClient, type SimulatorRequest } from '../support/llmq-client.js';
import type { BatchedJob } from '../support/batched-job.js';

let stack: Stack;
let client: ReturnType<typeof llmqClient>;

/** Prompts of a model whose batches may hold three of them at the provider at once. */
const BOUNDED_MODEL = 'openai/gpt-4.1-nano';
const boundedPrompts = Array.from(
  { length: 7 },
  (_, index) => `Summarise chapter ${index}: ${'the long story goes on and on. '.repeat(20)}`,
);
let boundedLimit = 0;

beforeAll(async () => {
  const counts = await Promise.all(
    boundedPrompts.map((content) =>
      estimatePromptTokens({ model: BOUNDED_MODEL, messages: [{ role: 'user', content }] }, 'openai'),
    ),
  );
  boundedLimit = Math.max(...counts) * 3;
  stack = await startLlmqStack({
    workers: 2,
    simulatorEnv: { SIM_BATCH_PROCESSING_MS: '300' },
    config: [
      'batching:',
      '  max_wait_s: 1',
      '  poll_first_s: 0.3',
      '  poll_max_s: 1',
      '  deadline_margin_s: 5',
      'limits:',
      `  ${BOUNDED_MODEL}: { batch_enqueued_tokens: ${boundedLimit} }`,
    ].join('\n'),
  });
  client = llmqClient(stack);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }], max_tokens: 30 },
  ...extra,
});
const deferrable = (content: string, extra: Record<string, unknown> = {}) =>
  chat(content, { completion_window: '24h', ...extra });

async function submit(body: unknown): Promise<string> {
  const submitted = await client.submit(body);
  expect(submitted.status).toBe(202);
  return String(submitted.body.id);
}
const end = async (id: string) => (await client.waitForEnd(id, 30_000)) as unknown as BatchedJob;
const chatCalls = async (since: number) =>
  (await client.requests()).filter(
    (request: SimulatorRequest) => request.path === '/v1/chat/completions' && request.time >= since,
  ).length;
const submissions = async () =>
  (
    (await (await fetch(`${stack.simulatorUrl}/_sim/batch-submissions?provider=openai`)).json()) as {
      submissions: Record<string, number>;
    }
  ).submissions;
const nano = (usd: number | null) => Math.round((usd ?? 0) * 1e9);

describe('deferrable jobs through the provider batch API', () => {
  it('end with the answers a synchronous call gives, at half the price, with no synchronous call', async () => {
    const prompts = Array.from({ length: 6 }, (_, index) => `Summarise document ${index}.`);
    const started = Date.now();
    const ids = await Promise.all(prompts.map((prompt) => submit(deferrable(prompt))));

    // While its batch runs, a job says it waits on it, and names it once sent.
    await expect
      .poll(async () => ((await client.get(ids[0] ?? '')).body as unknown as BatchedJob).provider_batch?.id, {
        timeout: 15_000,
      })
      .toMatch(/^batch_/);
    const waiting = (await client.get(ids[0] ?? '')).body as unknown as BatchedJob;
    if (waiting.status === 'queued') expect(waiting.waiting_for).toBe('provider_batch');

    const ended = await Promise.all(ids.map(end));
    expect(await chatCalls(started)).toBe(0);
    const submitted = await submissions();
    for (const job of ended) {
      expect(job).toMatchObject({ status: 'succeeded', answered_by: 'openai/gpt-4o-mini' });
      expect(submitted[job.id]).toBe(1);
    }

    // The same requests run synchronously: the same answers, at twice the price.
    const syncIds = await Promise.all(prompts.map((prompt) => submit(chat(prompt))));
    const sync = await Promise.all(syncIds.map(end));
    for (const [index, job] of ended.entries()) {
      const twin = sync[index];
      expect(job.result?.choices[0]?.message.content).toBe(twin?.result?.choices[0]?.message.content);
      expect(job.usage).toEqual(twin?.usage);
      expect(nano(job.cost_usd) * 2).toBeCloseTo(nano(twin?.cost_usd ?? null), -1);
      expect(nano(job.cost_usd) + nano(job.saved_usd)).toBe(nano(twin?.cost_usd ?? null));
    }
  });

  it("keeps a model's batches within its enqueued tokens: the provider refuses none, every job is answered by a batch", async () => {
    // The provider's own bound, a little over llmq's (its count of a prompt differs by a few tokens).
    await client.configureSimulator({ batchProcessingMs: 1_000, batchEnqueuedTokens: boundedLimit + 30 });
    try {
      const started = Date.now();
      const ids = await Promise.all(
        boundedPrompts.map((content) =>
          submit({
            type: 'chat',
            completion_window: '24h',
            request: { model: BOUNDED_MODEL, messages: [{ role: 'user', content }], max_tokens: 20 },
          }),
        ),
      );
      const ended = await Promise.all(ids.map(end));
      expect(ended.map((job) => job.status)).toEqual(ids.map(() => 'succeeded'));
      expect(await chatCalls(started)).toBe(0);
      // Seven jobs, three a batch: at least three batches, none refused, none holding more than three.
      const batchIds = ended.map((job) => job.provider_batch?.id);
      expect(new Set(batchIds).size).toBeGreaterThanOrEqual(3);
      for (const id of new Set(batchIds))
        expect(batchIds.filter((other) => other === id).length).toBeLessThanOrEqual(3);
      const batches = (
        (await await fetch(`${stack.simulatorUrl}/v1/batches?limit=100`, {
          headers: { authorization: 'Bearer sk-simulator' },
        }).then((response) => response.json())) as { data: Array<{ id: string; status: string }> }
      ).data;
      const ours = batches.filter((batch) => batchIds.includes(batch.id));
      expect(ours.map((batch) => batch.status)).toEqual(ours.map(() => 'completed'));
      expect(batches.filter((batch) => batch.status === 'failed')).toEqual([]);
    } finally {
      await client.configureSimulator({ batchProcessingMs: 300, batchEnqueuedTokens: null });
    }
  });

  it('the lines of an OpenAI-style batch (POST /v1/batches) are deferrable jobs: answered through provider batches, at half price', async () => {
    const { client: openai, problems } = checkedOpenAi(stack, 'alpha');
    const started = Date.now();
    const lines = ['first', 'second', 'third'].map((name) => ({
      custom_id: name,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `Classify the ${name} note.` }] },
    }));
    const file = await openai.files.create({
      file: await toFile(Buffer.from(`${lines.map((line) => JSON.stringify(line)).join('\n')}\n`), 'notes.jsonl'),
      purpose: 'batch',
    });
    const created = await openai.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    let batch = created;
    await expect
      .poll(
        async () => {
          batch = await openai.batches.retrieve(created.id);
          return batch.status;
        },
        { timeout: 30_000, interval: 250 },
      )
      .toBe('completed');
    expect(batch.request_counts).toMatchObject({ total: 3, completed: 3, failed: 0 });
    expect(await chatCalls(started)).toBe(0);
    const output = (await (await openai.files.content(batch.output_file_id ?? '')).text())
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as { custom_id: string; response: { request_id: string; status_code: number } });
    expect(output.map((line) => line.custom_id).sort()).toEqual(['first', 'second', 'third']);
    const submitted = await submissions();
    for (const line of output) {
      expect(line.response.status_code).toBe(200);
      const job = (await client.get(line.response.request_id)).body as unknown as BatchedJob;
      expect(job).toMatchObject({ status: 'succeeded', provider_batch: { id: expect.stringMatching(/^batch_/) } });
      expect(nano(job.saved_usd)).toBe(nano(job.cost_usd));
      expect(submitted[job.id]).toBe(1);
    }
    expect(problems).toEqual([]);
  });

  it('a batch that says llmq.provider_batches: false runs its lines as ordinary jobs, at once and at the listed price', async () => {
    const { client: openai, problems } = checkedOpenAi(stack, 'alpha');
    const started = Date.now();
    const line = {
      custom_id: 'now',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Answer this one now.' }] },
    };
    const file = await openai.files.create({
      file: await toFile(Buffer.from(`${JSON.stringify(line)}\n`), 'now.jsonl'),
      purpose: 'batch',
    });
    // The openai SDK sends fields it does not know as they are (Python: extra_body).
    const created = await openai.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      llmq: { provider_batches: false },
    } as Parameters<typeof openai.batches.create>[0]);
    await expect
      .poll(async () => (await openai.batches.retrieve(created.id)).status, { timeout: 30_000, interval: 250 })
      .toBe('completed');
    const done = await openai.batches.retrieve(created.id);
    const [output] = (await (await openai.files.content(done.output_file_id ?? '')).text())
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as { response: { request_id: string } });
    const job = (await client.get(output?.response.request_id ?? '')).body as unknown as BatchedJob;
    expect(job).toMatchObject({ status: 'succeeded', provider_batch: null, saved_usd: 0 });
    expect(await chatCalls(started)).toBe(1);
    expect(problems).toEqual([]);
  });

  it('a deferrable embedding job goes through the batch too: the same vectors as a synchronous call, at half the price', async () => {
    const started = Date.now();
    const embedding = (extra: Record<string, unknown> = {}) => ({
      type: 'embedding',
      request: { model: 'openai/text-embedding-3-small', input: ['index this page', 'and this one'], dimensions: 8 },
      ...extra,
    });
    const deferred = (await end(await submit(embedding({ completion_window: '24h' })))) as unknown as BatchedJob & {
      result: { data: Array<{ index: number; embedding: number[] }> };
    };
    expect(deferred).toMatchObject({ status: 'succeeded', provider_batch: { id: expect.stringMatching(/^batch_/) } });
    expect(
      (await client.requests()).filter(
        (request: SimulatorRequest) => request.path === '/v1/embeddings' && request.time >= started,
      ),
    ).toEqual([]);
    expect((await submissions())[deferred.id]).toBe(1);
    const sync = (await end(await submit(embedding()))) as unknown as typeof deferred;
    expect(deferred.result.data).toEqual(sync.result.data);
    expect(deferred.result.data.map((item) => item.embedding.length)).toEqual([8, 8]);
    expect(deferred.usage).toEqual(sync.usage);
    expect(nano(deferred.cost_usd) + nano(deferred.saved_usd)).toBe(nano(sync.cost_usd));
    expect(nano(deferred.saved_usd)).toBe(nano(deferred.cost_usd));
  });

  it('a line that fails for good fails its job, classified; a retryable one runs synchronously', async () => {
    await client.faults([
      { match: { contains: 'QUOTA-GONE' }, fault: 'insufficient_quota' },
      { match: { contains: 'FLAKY-ONCE' }, fault: '500', count: 1 },
    ]);
    try {
      const started = Date.now();
      const [gone, flaky] = await Promise.all([
        submit(deferrable('QUOTA-GONE please')),
        submit(deferrable('FLAKY-ONCE please')),
      ]);
      const [goneJob, flakyJob] = await Promise.all([end(gone), end(flaky)]);
      expect(goneJob).toMatchObject({ status: 'failed', error: { type: 'quota_exceeded' }, cost_usd: 0 });
      expect(flakyJob).toMatchObject({ status: 'succeeded' });
      // Its retry went the synchronous way, at the listed price.
      expect(await chatCalls(started)).toBe(1);
      expect(flakyJob.saved_usd).toBe(0);
    } finally {
      await client.faults([]);
    }
  });

  it('a canceled job ends canceled at once, and its line is not charged', async () => {
    await client.configureSimulator({ batchProcessingMs: 4_000 });
    try {
      const id = await submit(deferrable('Cancel me while my batch runs.'));
      await expect
        .poll(async () => ((await client.get(id)).body as unknown as BatchedJob).provider_batch, { timeout: 15_000 })
        .not.toBeNull();
      const canceled = await client.cancel(id);
      expect(canceled.status).toBe(200);
      const job = await end(id);
      expect(job).toMatchObject({ status: 'canceled', cost_usd: 0 });
      // Its line's answer comes later and changes nothing.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect(((await client.get(id)).body as unknown as BatchedJob).status).toBe('canceled');
    } finally {
      await client.configureSimulator({ batchProcessingMs: 300 });
    }
  });

  it('a batch that expires: its jobs run synchronously and still end', async () => {
    await client.configureSimulator({ batchProcessingMs: 60_000, batchExpiryMs: 1_500 });
    try {
      const started = Date.now();
      const ids = await Promise.all(['one', 'two', 'three'].map((word) => submit(deferrable(`Expire ${word}.`))));
      const ended = await Promise.all(ids.map(end));
      for (const job of ended) expect(job).toMatchObject({ status: 'succeeded', saved_usd: 0 });
      expect(await chatCalls(started)).toBe(3);
    } finally {
      await client.configureSimulator({ batchProcessingMs: 300, batchExpiryMs: 24 * 3600 * 1000 });
    }
  });

  it('a job whose deadline comes before its batch is done leaves it and runs synchronously in time', async () => {
    await client.configureSimulator({ batchProcessingMs: 60_000 });
    try {
      const started = Date.now();
      const id = await submit(deferrable('Late batch, near deadline.', { deadline_s: 12 }));
      const job = await end(id);
      // Succeeded: past its deadline it would have failed with `timeout`.
      expect(job).toMatchObject({ status: 'succeeded', saved_usd: 0 });
      expect(await chatCalls(started)).toBe(1);
    } finally {
      await client.configureSimulator({ batchProcessingMs: 300 });
    }
  });
});
