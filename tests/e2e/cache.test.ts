import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { countTextTokens, simulatedEmbedding } from '@llmq/simulator';
import { llmqClient } from '../support/llmq-client.js';
import { createRedisConnection } from '@llmq/core';

/** The job object fields these tests read. */
interface CachedJob {
  id: string;
  status: string;
  attempts: number;
  answered_by: string | null;
  result: { choices?: Array<{ message: { content: string | null } }>; data?: Array<{ embedding: number[] }> } | null;
  usage: { input_tokens: number; output_tokens: number } | null;
  cost_usd: number | null;
  saved_usd: number | null;
  cached: string | null;
  cache_similarity: number | null;
  cached_inputs: number | null;
}

const EMBEDDING_DIMENSIONS = 2;
let stack: Stack;
let alpha: ReturnType<typeof llmqClient>;
let beta: ReturnType<typeof llmqClient>;

beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 1,
    config: [
      'cache:',
      '  ttl_s: 3600',
      '  models:',
      '    openai/gpt-4o-mini: { mode: exact }',
      '    openai/text-embedding-3-small: { mode: exact }',
      '  semantic:',
      '    embedding_model: openai/text-embedding-3-small',
      // Two dimensions: the simulator's seeded vectors then land anywhere on a circle, so
      // prompts at a chosen similarity are easy to find.
      `    dimensions: ${EMBEDDING_DIMENSIONS}`,
      '    threshold: 0.95',
    ].join('\n'),
  });
  alpha = llmqClient(stack, 'alpha');
  beta = llmqClient(stack, 'beta');
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const chat = (content: string, request: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }], max_tokens: 30, ...request },
  ...extra,
});

async function run(client: ReturnType<typeof llmqClient>, body: unknown): Promise<CachedJob> {
  const submitted = await client.submit(body);
  expect(submitted.status).toBe(202);
  return (await client.waitForEnd(String(submitted.body.id), 20_000)) as unknown as CachedJob;
}

const callsTo = async (path: string) => (await alpha.requests()).filter((request) => request.path === path).length;

describe('exact cache', () => {
  it('answers a repeated deterministic request from the cache: no provider call, no cost, the saving shown', async () => {
    const body = chat('What is the capital of France?', { temperature: 0 });
    const first = await run(alpha, body);
    expect(first).toMatchObject({ status: 'succeeded', cached: null, attempts: 1 });
    const callsBefore = await callsTo('/v1/chat/completions');

    // The status changes SSE clients, webhooks and waiters follow.
    const subscriber = createRedisConnection(stack.redisUrl);
    const events: Array<{ id: string; status: string }> = [];
    subscriber.on('message', (_channel: string, message: string) => {
      events.push(JSON.parse(message) as { id: string; status: string });
    });
    await subscriber.subscribe('llmq:job-events');
    const second = await run(alpha, body);
    await subscriber.quit();
    expect(events.filter((event) => event.id === second.id).map((event) => event.status)).toEqual([
      'running',
      'succeeded',
    ]);
    expect(second).toMatchObject({
      status: 'succeeded',
      cached: 'exact',
      attempts: 0,
      answered_by: 'openai/gpt-4o-mini',
      usage: { input_tokens: 0, output_tokens: 0 },
      cost_usd: 0,
      saved_usd: first.cost_usd,
    });
    expect(second.result).toEqual(first.result);
    expect(await callsTo('/v1/chat/completions')).toBe(callsBefore);
  });

  it('misses on a changed parameter, for another tenant, and for a sampled request without an opt-in', async () => {
    const body = chat('Name three primes.', { temperature: 0 });
    await run(alpha, body);
    expect((await run(alpha, chat('Name three primes.', { temperature: 0, max_tokens: 31 }))).cached).toBeNull();
    expect((await run(alpha, chat('Name three primes.', { temperature: 0, seed: 4 }))).cached).toBeNull();
    expect((await run(beta, body)).cached).toBeNull();
    expect((await run(beta, body)).cached).toBe('exact');

    // Temperature 0.7 samples: the config default does not apply, the job's own opt-in does.
    const sampled = chat('Write a haiku.', { temperature: 0.7 });
    await run(alpha, sampled);
    expect((await run(alpha, sampled)).cached).toBeNull();
    const optedIn = { ...sampled, cache: { mode: 'exact' } };
    await run(alpha, optedIn);
    expect((await run(alpha, optedIn)).cached).toBe('exact');
    expect((await run(alpha, { ...optedIn, cache: { mode: 'off' } })).cached).toBeNull();
  });

  it('misses once the entry has expired', async () => {
    const body = chat('Spell "cache".', { temperature: 0 }, { cache: { mode: 'exact', ttl_s: 1 } });
    await run(alpha, body);
    expect((await run(alpha, body)).cached).toBe('exact');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await run(alpha, body)).cached).toBeNull();
  });
});

describe('embedding cache', () => {
  const MODEL = 'text-embedding-3-small';
  const embedding = (input: string[]) => ({ type: 'embedding', request: { model: `openai/${MODEL}`, input } });

  it('sends only the unknown half of a batch to the provider and reassembles the result in order', async () => {
    await run(alpha, embedding(['alpha one', 'alpha two']));
    const since = Date.now();
    const batch = ['alpha one', 'new three', 'alpha two', 'new four'];
    const job = await run(alpha, embedding(batch));
    expect(job).toMatchObject({ status: 'succeeded', cached: 'partial', cached_inputs: 2 });
    expect(job.result?.data?.map((item) => item.embedding)).toEqual(
      batch.map((input) => simulatedEmbedding(MODEL, input, 8)),
    );
    const calls = (await alpha.requests()).filter(
      (request) => request.path === '/v1/embeddings' && request.time >= since,
    );
    expect(calls).toHaveLength(1);
    const sent = calls[0] as unknown as { promptTokens: number };
    expect(sent.promptTokens).toBe(countTextTokens('new three') + countTextTokens('new four'));
    expect(job.usage).toEqual({ input_tokens: sent.promptTokens, output_tokens: 0 });

    const known = await run(alpha, embedding(['new four', 'alpha one']));
    expect(known).toMatchObject({ cached: 'exact', cached_inputs: 2, attempts: 0, cost_usd: 0 });
    expect((await alpha.requests()).filter((request) => request.time >= since)).toHaveLength(1);
  });
});

describe('semantic cache', () => {
  const MODEL = 'text-embedding-3-small';
  const base = 'How do I reset my password?';
  // The prompt text embedded for a one-message conversation is "user: <content>".
  const vector = (content: string) => simulatedEmbedding(MODEL, `user: ${content}`, EMBEDDING_DIMENSIONS);
  const similarity = (left: number[], right: number[]) =>
    left.reduce((sum, value, index) => sum + value * (right[index] ?? 0), 0);
  const variants = Array.from({ length: 2_000 }, (_unused, index) => `${base} (asked ${index} times)`).map(
    (content) => ({
      content,
      similarity: similarity(vector(base), vector(content)),
    }),
  );
  const near = variants.find((variant) => variant.similarity >= 0.96 && variant.similarity < 0.995);
  const far = variants.find((variant) => variant.similarity >= 0.5 && variant.similarity < 0.9);
  const semantic = (content: string) => chat(content, { temperature: 0 }, { cache: { mode: 'semantic' } });

  it('answers a similar prompt at or above the threshold, misses below it, and never across tenants', async () => {
    if (near === undefined || far === undefined) throw new Error('no prompts at the wanted similarities');
    const stored = await run(alpha, semantic(base));
    expect(stored).toMatchObject({ status: 'succeeded', cached: null });

    // A lookup's embedding call is charged to its job: its tokens at $0.02 per million (20 nano-dollars each).
    const lookupNano = (content: string) => countTextTokens(`user: ${content}`) * 20;
    const hit = await run(alpha, semantic(near.content));
    expect(hit).toMatchObject({ status: 'succeeded', cached: 'semantic', attempts: 0 });
    expect(hit.cache_similarity).toBeCloseTo(near.similarity, 5);
    expect(hit.result).toEqual(stored.result);
    expect(hit.cost_usd).toBe(lookupNano(near.content) / 1e9);
    // What the hit saved is the stored job's chat call, without that job's own lookup.
    expect(Math.round((hit.saved_usd ?? 0) * 1e9)).toBe(Math.round((stored.cost_usd ?? 0) * 1e9) - lookupNano(base));

    expect((await run(alpha, semantic(far.content))).cached).toBeNull();
    expect((await run(beta, semantic(near.content))).cached).toBeNull();
    expect((await run(alpha, semantic(base))).cached).toBe('exact');
  });

  it('refuses mode "semantic" for embedding jobs', async () => {
    const refused = await alpha.submit({ ...embedding(), cache: { mode: 'semantic' } });
    expect(refused.status).toBe(400);
  });

  function embedding() {
    return { type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: 'x' } };
  }
});
