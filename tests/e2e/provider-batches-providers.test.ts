import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { llmqClient, type SimulatorRequest } from '../support/llmq-client.js';
import type { BatchedJob } from '../support/batched-job.js';

let stack: Stack;
let client: ReturnType<typeof llmqClient>;

beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 2,
    simulatorEnv: { SIM_BATCH_PROCESSING_MS: '300' },
    config: ['batching:', '  max_wait_s: 1', '  poll_first_s: 0.3', '  poll_max_s: 1', '  deadline_margin_s: 5'].join(
      '\n',
    ),
  });
  client = llmqClient(stack);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city.',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** Each provider's batch API as the simulator speaks it, and what its synchronous calls look like there. */
const providers = [
  {
    model: 'anthropic/claude-haiku-4-5',
    simulator: 'anthropic',
    batchId: /^msgbatch_/,
    isSyncCall: (path: string) => path === '/v1/messages',
    /** The custom_id of a job's line: json_object lines carry a suffix (see anthropic-batch-api.ts). */
    customId: (id: string, extra: Record<string, unknown>) =>
      (extra.response_format as { type?: string } | undefined)?.type === 'json_object' ? `${id}-json` : id,
  },
  {
    model: 'google/gemini-2.5-flash',
    simulator: 'gemini',
    batchId: /^batches\//,
    isSyncCall: (path: string) => /:(generateContent|streamGenerateContent)$/.test(path),
    customId: (id: string) => id,
  },
] as const;

const nano = (usd: number | null) => Math.round((usd ?? 0) * 1e9);
const end = async (id: string) => (await client.waitForEnd(id, 30_000)) as unknown as BatchedJob;
async function submit(body: unknown): Promise<string> {
  const submitted = await client.submit(body);
  expect(submitted.status).toBe(202);
  return String(submitted.body.id);
}
const submissions = async (provider: string) =>
  (
    (await (await fetch(`${stack.simulatorUrl}/_sim/batch-submissions?provider=${provider}`)).json()) as {
      submissions: Record<string, number>;
    }
  ).submissions;

describe.each(providers)('deferrable jobs through the $simulator batch API', (provider) => {
  const chat = (content: string, extra: Record<string, unknown> = {}) => ({
    type: 'chat',
    request: { model: provider.model, messages: [{ role: 'user', content }], max_tokens: 60, ...extra },
  });
  const deferrable = (content: string, extra: Record<string, unknown> = {}) => ({
    ...chat(content, extra),
    completion_window: '24h',
  });
  const syncCalls = async (since: number) =>
    (await client.requests()).filter(
      (request: SimulatorRequest) => provider.isSyncCall(request.path) && request.time >= since,
    ).length;

  it('end with the answers a synchronous call gives, at half the price, with no synchronous call', async () => {
    const requests: Array<{ prompt: string; extra: Record<string, unknown> }> = [
      ...Array.from({ length: 4 }, (_, index) => ({ prompt: `Summarise document ${index}.`, extra: {} })),
      { prompt: 'Answer as a JSON object.', extra: { response_format: { type: 'json_object' } } },
      { prompt: 'What is the weather in Paris?', extra: { tools: [weather], tool_choice: 'required' } },
    ];
    const started = Date.now();
    const ids = await Promise.all(requests.map(({ prompt, extra }) => submit(deferrable(prompt, extra))));

    await expect
      .poll(async () => ((await client.get(ids[0] ?? '')).body as unknown as BatchedJob).provider_batch?.id, {
        timeout: 15_000,
      })
      .toMatch(provider.batchId);
    const ended = await Promise.all(ids.map(end));
    expect(await syncCalls(started)).toBe(0);
    const submitted = await submissions(provider.simulator);
    for (const [index, job] of ended.entries()) {
      expect(job).toMatchObject({ status: 'succeeded', answered_by: provider.model });
      expect(submitted[provider.customId(job.id, requests[index]?.extra ?? {})]).toBe(1);
    }

    // The same requests run synchronously: the same answers, at twice the price.
    const syncIds = await Promise.all(requests.map(({ prompt, extra }) => submit(chat(prompt, extra))));
    const sync = await Promise.all(syncIds.map(end));
    for (const [index, job] of ended.entries()) {
      const twin = sync[index];
      expect(twin).toMatchObject({ status: 'succeeded', saved_usd: 0 });
      expect(job.result?.choices).toEqual(twin?.result?.choices);
      expect(job.usage).toEqual(twin?.usage);
      expect(nano(job.cost_usd) * 2).toBeCloseTo(nano(twin?.cost_usd ?? null), -1);
      expect(nano(job.cost_usd) + nano(job.saved_usd)).toBe(nano(twin?.cost_usd ?? null));
    }
    // The structured answers really are structured.
    expect(JSON.parse(ended[4]?.result?.choices[0]?.message.content ?? '')).toBeTypeOf('object');
    expect(ended[5]?.result?.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { tool_calls: [{ function: { name: 'get_weather' } }] },
    });
  });

  it('a line that fails for good fails its job, classified; a retryable one runs synchronously', async () => {
    const gone = `QUOTA-GONE-${provider.simulator}`;
    const flaky = `FLAKY-ONCE-${provider.simulator}`;
    await client.faults([
      { match: { contains: gone }, fault: 'insufficient_quota' },
      { match: { contains: flaky }, fault: '500', count: 1 },
    ]);
    try {
      const started = Date.now();
      const [goneId, flakyId] = await Promise.all([
        submit(deferrable(`${gone} please`)),
        submit(deferrable(`${flaky} please`)),
      ]);
      const [goneJob, flakyJob] = await Promise.all([end(goneId), end(flakyId)]);
      expect(goneJob).toMatchObject({ status: 'failed', error: { type: 'quota_exceeded' }, cost_usd: 0 });
      expect(flakyJob).toMatchObject({ status: 'succeeded', answered_by: provider.model, saved_usd: 0 });
      // Only the retry went the synchronous way.
      expect(await syncCalls(started)).toBe(1);
    } finally {
      await client.faults([]);
    }
  });
});
