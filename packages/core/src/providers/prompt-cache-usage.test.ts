import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@llmq/simulator';
import type { ChatRequest } from '../jobs/chat-request-schema.js';
import { chatJobUsage } from '../jobs/job-object.js';
import { createAnthropicProvider } from './anthropic/anthropic-provider.js';
import type { TokenUsage } from './chat-completion.js';
import { createGoogleProvider } from './google/google-provider.js';
import { createOpenAIProvider } from './openai/openai-provider.js';
import type { Provider } from './provider.js';

// The simulator's prompt cache (apps/simulator/src/prompt-cache.ts): per key, 128-token blocks,
// reported from 1,024 shared tokens on. It is on only for the keys of its accounts.
const BLOCK_TOKENS = 128;
const MIN_CACHED_TOKENS = 1_024;
const KEY = 'sk-cache';

/** About 2,000 tokens: past the caching minimum. */
const LONG_TEXT = Array.from(
  { length: 60 },
  (_, index) => `Paragraph ${index}: the archive keeps every ledger of the harbour, sorted by ship and by year.`,
).join('\n');

let simulator: Simulator;
let url: string;

beforeAll(async () => {
  simulator = createSimulator({ chunkDelayMs: 0, accounts: [{ key: KEY, org: 'org-cache' }] });
  ({ url } = await simulator.listen(0));
});
afterAll(() => simulator.close());
beforeEach(() => simulator.reset());

const providers: Array<[name: string, modelId: string, provider: () => Provider]> = [
  ['openai', 'gpt-4o-mini', () => createOpenAIProvider({ apiKey: KEY, baseURL: `${url}/v1` })],
  ['anthropic', 'claude-haiku-4-5', () => createAnthropicProvider({ apiKey: KEY, baseURL: url })],
  ['google', 'gemini-2.5-flash', () => createGoogleProvider({ apiKey: KEY, baseURL: url })],
];

const request: ChatRequest = {
  model: 'ignored',
  messages: [
    { role: 'system', content: 'You keep archives.' },
    { role: 'user', content: LONG_TEXT },
  ],
  max_tokens: 20,
};

const cachedOf = (usage: TokenUsage) => usage.prompt_tokens_details?.cached_tokens ?? 0;

describe.each(providers)('cached prompt tokens through the %s SDK adapter', (_name, modelId, provider) => {
  it('reports none on the first call and the shared blocks on the repeat, as the job usage too', async () => {
    const model = provider().chatModel(modelId);
    const first = await model.doGenerate(request, { timeoutMs: 5_000 });
    // Every provider's answer has the details, whether it reports a zero count or leaves it out (Gemini).
    expect(first.usage.prompt_tokens_details).toEqual({ cached_tokens: 0 });
    expect(chatJobUsage(first.usage)).toEqual({
      input_tokens: first.usage.prompt_tokens,
      output_tokens: first.usage.completion_tokens,
    });

    const second = await model.doGenerate(request, { timeoutMs: 5_000 });
    const cached = cachedOf(second.usage);
    expect(cached).toBeGreaterThanOrEqual(MIN_CACHED_TOKENS);
    expect(cached % BLOCK_TOKENS).toBe(0);
    // Cached tokens are part of the prompt count, never on top of it.
    expect(second.usage.prompt_tokens).toBe(first.usage.prompt_tokens);
    expect(second.usage.prompt_tokens - cached).toBeLessThan(2 * BLOCK_TOKENS);
    expect(chatJobUsage(second.usage)).toEqual({
      input_tokens: second.usage.prompt_tokens,
      output_tokens: second.usage.completion_tokens,
      cached_input_tokens: cached,
    });
    expect(simulator.stats().accounts[KEY]?.cachedPromptTokens).toBe(cached);
  });
});
