import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { llmqClient } from '../support/llmq-client.js';
import { PrometheusMetrics } from '../support/prometheus-text.js';

let stack: Stack;
let client: OpenAI;
let llmq: ReturnType<typeof llmqClient>;

beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 1,
    // Slow chunks: a stream stays open long enough to be seen open.
    simulatorEnv: { SIM_CHUNK_DELAY_MS: '150' },
    config: [
      'limits:',
      '  openai/gpt-4o-mini: { rpm: 10000 }',
      '  openai/text-embedding-3-small: { rpm: 10000 }',
      'aliases:',
      '  fast: [openai/gpt-4o-mini]',
      '',
    ].join('\n'),
  });
  client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.keys.alpha ?? '', maxRetries: 0 });
  llmq = llmqClient(stack);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
}, 120_000);

const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Name a queue.' }];

/** A chat request carrying llmq's own job options (the SDKs' extra body). */
const withLlmq = (model: string, llmq: Record<string, unknown>) =>
  ({ model, messages, llmq }) as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;

async function scrape(): Promise<PrometheusMetrics> {
  const response = await fetch(`${stack.apiUrl}/metrics`);
  expect(response.status).toBe(200);
  return new PrometheusMetrics(await response.text());
}

/** The caller's job with `metadata.case`, once the simulator holds its call. */
async function heldJob(label: string): Promise<string> {
  for (let tries = 0; tries < 200; tries++) {
    const list = (await (
      await fetch(`${stack.apiUrl}/v1/jobs?limit=100`, { headers: { authorization: `Bearer ${stack.keys.alpha}` } })
    ).json()) as { data: Array<{ id: string; status: string; metadata: Record<string, string> }> };
    const job = list.data.find((item) => item.metadata.case === label);
    if (job?.status === 'running' && (await llmq.stats()).hanging > 0) return job.id;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no running job for ${label}`);
}

describe('metrics of the OpenAI-compatible routes', () => {
  it('count requests by kind, listed model and outcome, time the waits, and show streams while open', async () => {
    await llmq.faults([
      { match: { model: 'gpt-4o-sick' }, fault: '500' },
      { match: { model: 'gpt-4o-hang' }, fault: 'hang' },
    ]);

    // Succeeded: an alias, a model the limits name, one the deployment does not list, embeddings.
    await client.chat.completions.create({ model: 'fast', messages, max_tokens: 10 });
    await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages, max_tokens: 10 });
    await client.chat.completions.create({ model: 'openai/gpt-4o-unlisted', messages, max_tokens: 10 });
    await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: 'a queue' });

    // A stream is open from its first chunk to its end.
    const stream = await client.chat.completions.create({ model: 'fast', messages, max_tokens: 40, stream: true });
    const chunks = stream[Symbol.asyncIterator]();
    await chunks.next();
    expect((await scrape()).value('llmq_openai_streams_open')).toBe(1);
    while (!(await chunks.next()).done);
    await expect.poll(async () => (await scrape()).value('llmq_openai_streams_open')).toBe(0);

    // Failed: the provider fails the only attempt, answered and streamed.
    const failing = withLlmq('openai/gpt-4o-sick', { attempts: 1 });
    await expect(client.chat.completions.create(failing)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const failingStream = await client.chat.completions.create({ ...failing, stream: true });
    await expect(
      (async () => {
        for await (const _chunk of failingStream);
      })(),
    ).rejects.toBeInstanceOf(OpenAI.APIError);

    // Canceled: the job is canceled while its caller waits.
    const canceled = client.chat.completions
      .create(withLlmq('openai/gpt-4o-hang', { metadata: { case: 'canceled' } }))
      .catch((caught: unknown) => caught);
    expect((await llmq.cancel(await heldJob('canceled'))).status).toBe(200);
    expect(await canceled).toBeInstanceOf(OpenAI.ConflictError);

    // Client gone: the caller leaves while its job waits on the provider; the job runs on.
    const abort = new AbortController();
    const left = client.chat.completions
      .create(withLlmq('openai/gpt-4o-hang', { metadata: { case: 'left' } }), { signal: abort.signal })
      .catch((caught: unknown) => caught);
    const leftJob = await heldJob('left');
    abort.abort();
    expect(await left).toBeInstanceOf(OpenAI.APIUserAbortError);

    // Rejected: no job is made for a model of no provider or a body the schema refuses.
    await expect(client.chat.completions.create({ model: 'nowhere/model', messages })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    await expect(
      client.embeddings.create({ model: 'openai/text-embedding-3-small', input: 'x', dimensions: -1 }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);

    const requests = (labels: Record<string, string>) => metrics.value('llmq_openai_requests_total', labels);
    let metrics = await scrape();
    await expect
      .poll(async () => {
        metrics = await scrape();
        return requests({ outcome: 'client_gone' });
      })
      .toBe(1);
    expect(requests({ route: 'chat', model: 'fast', outcome: 'succeeded' })).toBe(1);
    expect(requests({ route: 'chat', model: 'openai/gpt-4o-mini', outcome: 'succeeded' })).toBe(1);
    expect(requests({ route: 'chat', model: 'unknown', outcome: 'succeeded' })).toBe(1);
    expect(requests({ route: 'embeddings', model: 'openai/text-embedding-3-small', outcome: 'succeeded' })).toBe(1);
    expect(requests({ route: 'chat_stream', model: 'fast', outcome: 'succeeded' })).toBe(1);
    expect(requests({ route: 'chat', model: 'unknown', outcome: 'failed' })).toBe(1);
    expect(requests({ route: 'chat_stream', model: 'unknown', outcome: 'failed' })).toBe(1);
    expect(requests({ route: 'chat', model: 'unknown', outcome: 'canceled' })).toBe(1);
    expect(requests({ route: 'chat', model: 'unknown', outcome: 'client_gone' })).toBe(1);
    expect(requests({ route: 'chat', model: 'unknown', outcome: 'rejected' })).toBe(1);
    expect(requests({ route: 'embeddings', model: 'openai/text-embedding-3-small', outcome: 'rejected' })).toBe(1);
    expect(requests({})).toBe(11);
    // No label holds a name the deployment does not list.
    const models = new Set(metrics.labels('llmq_openai_requests_total').map((labels) => labels.model));
    expect([...models].sort()).toEqual(['fast', 'openai/gpt-4o-mini', 'openai/text-embedding-3-small', 'unknown']);

    // Every request that had a job is timed; the ones refused before a job are not.
    const waits = (labels: Record<string, string>) => metrics.count('llmq_openai_wait_seconds', labels);
    expect(waits({})).toBe(9);
    expect(waits({ route: 'chat', outcome: 'succeeded' })).toBe(3);
    expect(waits({ route: 'chat_stream', outcome: 'succeeded' })).toBe(1);
    expect(waits({ outcome: 'rejected' })).toBe(0);
    // The stream's 40 tokens came 150 ms apart: its caller waited for them.
    expect(metrics.sum('llmq_openai_wait_seconds', { route: 'chat_stream', outcome: 'succeeded' })).toBeGreaterThan(
      0.5,
    );
    expect(metrics.value('llmq_openai_streams_open')).toBe(0);

    // The job its caller left is still running, and ends when canceled.
    expect((await llmq.cancel(leftJob)).status).toBe(200);
  }, 90_000);
});
