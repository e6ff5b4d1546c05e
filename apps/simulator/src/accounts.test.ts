import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from './accounts.js';
import { simulatedAnthropicReply } from './anthropic-messages-reply.js';
import { type RunningSimulator, startSimulator } from './__fixtures__/running-simulator.js';
import { PROMPT_CACHE_BLOCK_TOKENS, PROMPT_CACHE_MIN_TOKENS } from './prompt-cache.js';
import { createSimulator } from './server.js';
import type { SimulatorOptions } from './simulator-options.js';

const RPM = 3;
const accounts: Account[] = [
  { key: 'key-a1', org: 'org-a', rpm: RPM, tpm: 1_000_000 },
  { key: 'key-a2', org: 'org-a' },
  { key: 'key-b', org: 'org-b', rpm: RPM },
];

/** About 2,000 tokens: past OpenAI's 1,024-token caching minimum. */
const LONG_TEXT = Array.from(
  { length: 60 },
  (_, index) => `Paragraph ${index}: the archive keeps every ledger of the harbour, sorted by ship and by year.`,
).join('\n');
const SHORT_TEXT = 'Say hello.';

/** The simulator of the current describe block. */
let running: RunningSimulator;

/** Starts a simulator with `options` for the tests of one describe block, reset between tests. */
function useSimulator(options: SimulatorOptions): void {
  beforeAll(async () => {
    running = await startSimulator(options);
  });
  afterEach(() => running.simulator.reset());
  afterAll(() => running.close());
}

function openAIClient(apiKey: string): OpenAI {
  return running.clientWith({ apiKey });
}

function anthropicClient(apiKey: string): Anthropic {
  return new Anthropic({ apiKey, baseURL: running.url, maxRetries: 0 });
}

function geminiClient(apiKey: string): GoogleGenAI {
  return new GoogleGenAI({
    apiKey,
    vertexai: false,
    httpOptions: { baseUrl: running.url, retryOptions: { attempts: 1 } },
  });
}

async function chat(apiKey: string, content: string, model = 'gpt-4o-mini') {
  return openAIClient(apiKey).chat.completions.create({ model, messages: [{ role: 'user', content }] });
}

async function refusals(apiKey: string, count: number): Promise<unknown[]> {
  const results = await Promise.all(
    Array.from({ length: count }, () => chat(apiKey, SHORT_TEXT).catch((caught: unknown) => caught)),
  );
  return results.filter((result) => result instanceof OpenAI.RateLimitError);
}

/** A cached count as the rule allows it: whole blocks, at least the minimum, at most the prompt. */
function expectCachedWithin(cached: number | undefined, promptTokens: number): void {
  expect(cached).toBeGreaterThanOrEqual(PROMPT_CACHE_MIN_TOKENS);
  expect(cached).toBeLessThanOrEqual(promptTokens);
  expect((cached ?? 0) % PROMPT_CACHE_BLOCK_TOKENS).toBe(0);
}

describe('accounts: one rate window per organisation', () => {
  useSimulator({ accounts });

  it('keys of one org share its rpm, another org has its own', async () => {
    expect(await refusals('key-a1', 2)).toEqual([]);
    expect(await refusals('key-a2', 1)).toEqual([]);
    const [refused] = (await refusals('key-a2', 1)) as InstanceType<typeof OpenAI.RateLimitError>[];
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect(refused?.message).toContain('in organization org-a');
    expect(refused?.message).toContain(`Limit ${RPM}`);
    expect(Number(refused?.headers.get('retry-after-ms'))).toBeGreaterThan(59_000);
    expect(refused?.headers.get('x-ratelimit-limit-requests')).toBe(String(RPM));

    expect(await refusals('key-b', RPM)).toEqual([]);
    expect(await refusals('key-b', 1)).toHaveLength(1);

    const stats = running.simulator.stats();
    expect(stats.windows['org:org-a']).toMatchObject({ maxRequests: RPM, maxOfferedRequests: RPM + 1 });
    expect(stats.windows['org:org-b']).toMatchObject({ maxRequests: RPM });
    expect(stats.accounts['key-a2']).toMatchObject({ org: 'org-a', requests: 2, rateLimited: 1 });
    expect(stats.accounts['key-b']).toMatchObject({ org: 'org-b', requests: RPM + 1, rateLimited: 1 });
  });

  it("reports the org's window in the rate-limit headers of a success", async () => {
    const { response } = await openAIClient('key-a1')
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: SHORT_TEXT }] })
      .withResponse();
    await chat('key-a2', SHORT_TEXT);
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe(String(RPM));
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe(String(RPM - 1));
    expect(response.headers.get('x-ratelimit-limit-tokens')).toBe('1000000');
    expect(running.simulator.stats().windows['org:org-a']?.currentRequests).toBe(2);
  });

  it('refuses a key that is no account with a 401, in each wire format', async () => {
    const openAIError = await chat('key-unknown', SHORT_TEXT).catch((caught: unknown) => caught);
    expect(openAIError).toBeInstanceOf(OpenAI.AuthenticationError);
    const anthropicError = await anthropicClient('key-unknown')
      .messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: SHORT_TEXT }] })
      .catch((caught: unknown) => caught);
    expect(anthropicError).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(running.simulator.stats().requests.byStatus).toEqual({ '401': 2 });
  });
});

describe('accounts: a prompt cache per key', () => {
  // The same keys and orgs without limits: these tests send more than RPM requests per org.
  useSimulator({ accounts: accounts.map(({ key, org }) => ({ key, org })) });

  it('reports cached tokens through the openai SDK, plain and streamed, on the same key only', async () => {
    const first = await chat('key-a1', LONG_TEXT);
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    // Another model on the same key reads the same cache.
    const second = await chat('key-a1', LONG_TEXT, 'gpt-4.1');
    const promptTokens = second.usage?.prompt_tokens ?? 0;
    expect(promptTokens).toBeGreaterThan(PROMPT_CACHE_MIN_TOKENS + PROMPT_CACHE_BLOCK_TOKENS);
    const cached = second.usage?.prompt_tokens_details?.cached_tokens;
    expectCachedWithin(cached, promptTokens);
    expect(promptTokens - (cached ?? 0)).toBeLessThan(2 * PROMPT_CACHE_BLOCK_TOKENS);

    const stream = await openAIClient('key-a1').chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: LONG_TEXT }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamedCached: number | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) streamedCached = chunk.usage.prompt_tokens_details?.cached_tokens;
    }
    expect(streamedCached).toBe(cached);

    const otherKey = await chat('key-a2', LONG_TEXT);
    expect(otherKey.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    await chat('key-a1', SHORT_TEXT);
    expect((await chat('key-a1', SHORT_TEXT)).usage?.prompt_tokens_details?.cached_tokens).toBe(0);

    const stats = running.simulator.stats().accounts;
    expect(stats['key-a1']?.cachedPromptTokens).toBe(2 * (cached ?? 0));
    expect(stats['key-a2']).toMatchObject({ requests: 1, cachedPromptTokens: 0, promptTokens });
  });

  it('reports cache_read_input_tokens through the Anthropic SDK, input_tokens without them', async () => {
    const request = {
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      system: 'You keep archives.',
      messages: [{ role: 'user' as const, content: LONG_TEXT }],
    };
    const first = await anthropicClient('key-b').messages.create(request);
    expect(first.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    const second = await anthropicClient('key-b').messages.create(request);
    const { inputTokens } = simulatedAnthropicReply(request);
    const cached = second.usage.cache_read_input_tokens ?? 0;
    expectCachedWithin(cached, inputTokens);
    expect(second.usage.cache_creation_input_tokens).toBe(0);
    expect(second.usage.input_tokens + cached).toBe(inputTokens);

    let streamedCached: number | null | undefined;
    for await (const event of await anthropicClient('key-b').messages.create({ ...request, stream: true })) {
      if (event.type === 'message_start') streamedCached = event.message.usage.cache_read_input_tokens;
    }
    expect(streamedCached).toBe(cached);

    const otherKey = await anthropicClient('key-a1').messages.create(request);
    expect(otherKey.usage.cache_read_input_tokens).toBe(0);
  });

  it('reports cachedContentTokenCount through the Google SDK, absent when nothing is cached', async () => {
    const request = { model: 'gemini-2.5-flash', contents: [{ role: 'user', parts: [{ text: LONG_TEXT }] }] };
    const first = await geminiClient('key-a2').models.generateContent(request);
    expect(first.usageMetadata?.cachedContentTokenCount).toBeUndefined();
    const second = await geminiClient('key-a2').models.generateContent(request);
    const promptTokens = second.usageMetadata?.promptTokenCount ?? 0;
    expectCachedWithin(second.usageMetadata?.cachedContentTokenCount, promptTokens);

    const otherKey = await geminiClient('key-a1').models.generateContent(request);
    expect(otherKey.usageMetadata?.cachedContentTokenCount).toBeUndefined();
    const short = { model: 'gemini-2.5-flash', contents: SHORT_TEXT };
    await geminiClient('key-a2').models.generateContent(short);
    expect((await geminiClient('key-a2').models.generateContent(short)).usageMetadata?.cachedContentTokenCount).toBe(
      undefined,
    );
  });

  it('forgets every prompt and counter on reset', async () => {
    await chat('key-a1', LONG_TEXT);
    await running.control('POST', '/_sim/reset');
    expect((await chat('key-a1', LONG_TEXT)).usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    const stats = (await running.control('GET', '/_sim/stats')).body as { accounts: Record<string, unknown> };
    expect(stats.accounts['key-a1']).toMatchObject({ requests: 1, rateLimited: 0, cachedPromptTokens: 0 });
    expect(stats.accounts['key-b']).toEqual({
      org: 'org-b',
      requests: 0,
      rateLimited: 0,
      promptTokens: 0,
      cachedPromptTokens: 0,
    });
  });
});

describe('without accounts', () => {
  it('has no prompt cache and no account counters', async () => {
    const plain = await startSimulator();
    try {
      const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: LONG_TEXT }] };
      await plain.client.chat.completions.create(request);
      const again = await plain.client.chat.completions.create(request);
      expect(again.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
      expect(plain.simulator.stats().accounts).toEqual({});
    } finally {
      await plain.close();
    }
  });

  it('refuses accounts together with apiKeys, and conflicting org limits', () => {
    expect(() => createSimulator({ accounts, apiKeys: ['key-a1'] })).toThrow('exclude each other');
    expect(() => createSimulator({ accounts: [...accounts, { key: 'key-a3', org: 'org-a', rpm: 7 }] })).toThrow(
      /org \\"org-a\\" give different rpm limits/,
    );
  });
});
