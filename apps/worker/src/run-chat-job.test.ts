import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIProvider, PriceTable, type ChatJobSubmission, type ChatModel } from '@llmq/core';
import { createSimulator, type Simulator } from '@llmq/simulator';
import { runChatJob } from './run-chat-job.js';

// The simulator's prompt cache is on only for the keys of its accounts.
const KEY = 'sk-cache';

let simulator: Simulator;
let model: ChatModel;

beforeAll(async () => {
  simulator = createSimulator({ chunkDelayMs: 0, accounts: [{ key: KEY, org: 'org-cache' }] });
  const { url } = await simulator.listen(0);
  model = createOpenAIProvider({ apiKey: KEY, baseURL: `${url}/v1` }).chatModel('gpt-4o-mini');
});
afterAll(() => simulator.close());

/** About 2,000 tokens: past the 1,024-token caching minimum. */
const LONG_TEXT = Array.from(
  { length: 60 },
  (_, index) => `Paragraph ${index}: the archive keeps every ledger of the harbour, sorted by ship and by year.`,
).join('\n');

const submission: ChatJobSubmission = {
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: LONG_TEXT }], max_tokens: 20 },
};

describe('runChatJob', () => {
  it('reports the prompt tokens the provider served from its cache, which cost the cached-input price', async () => {
    const first = await runChatJob(submission, model, { timeoutMs: 5_000 });
    expect(first.usage).toEqual({
      input_tokens: first.result.usage.prompt_tokens,
      output_tokens: first.result.usage.completion_tokens,
    });

    const second = await runChatJob(submission, model, { timeoutMs: 5_000 });
    const cached = second.result.usage.prompt_tokens_details?.cached_tokens ?? 0;
    expect(cached).toBeGreaterThan(0);
    expect(second.usage).toEqual({
      input_tokens: second.result.usage.prompt_tokens,
      output_tokens: second.result.usage.completion_tokens,
      cached_input_tokens: cached,
    });

    // gpt-4o-mini's built-in prices are whole nano-dollars per token, so no rounding blurs the difference.
    const prices = new PriceTable();
    const price = prices.priceOf('openai/gpt-4o-mini');
    const cachedDiscountNano = ((price?.inputPico ?? 0) - (price?.cachedInputPico ?? 0)) / 1_000;
    expect(cachedDiscountNano).toBeGreaterThan(0);
    const uncached = prices.costOf('openai/gpt-4o-mini', { ...second.usage, cached_input_tokens: 0 });
    expect(prices.costOf('openai/gpt-4o-mini', second.usage)).toEqual({
      known: true,
      nano: (uncached.known ? uncached.nano : Number.NaN) - cached * cachedDiscountNano,
    });
  });
});
