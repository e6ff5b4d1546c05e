import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../jobs/chat-request-schema.js';
import { estimateChatTokens, estimateEmbeddingTokens } from './token-estimate.js';

const exact = (text: string) => countTokens(text, { disallowedSpecial: new Set<string>() });

describe('estimateChatTokens', () => {
  const request: ChatRequest = {
    model: 'openai/gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are terse.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Describe this.' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
        ],
      },
    ],
    max_tokens: 100,
  };

  it('counts OpenAI prompts exactly with o200k_base: framing, text, images and max_tokens', async () => {
    const expected = 3 + (3 + exact('systemYou are terse.')) + (3 + exact('userDescribe this.') + 85) + 100;
    expect(await estimateChatTokens(request, 'openai', 1024)).toBe(expected);
  });

  it('counts other providers at four characters a token', async () => {
    const expected =
      3 +
      (3 + Math.ceil('systemYou are terse.'.length / 4)) +
      (3 + Math.ceil('userDescribe this.'.length / 4) + 85) +
      100;
    expect(await estimateChatTokens(request, 'anthropic', 1024)).toBe(expected);
  });

  it('counts a 1 MB run of one character close to its exact count', async () => {
    const hostile: ChatRequest = {
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'x'.repeat(1_000_000) }],
    };
    const estimate = await estimateChatTokens(hostile, 'openai', 0);
    // Exact: 8 characters a token (counted on a 16 K sample, which the quadratic encoder can still do).
    expect(estimate).toBeGreaterThanOrEqual(125_000);
    expect(estimate).toBeLessThanOrEqual(125_000 * 1.02);
    expect(exact('x'.repeat(16_000))).toBe(2_000);
  });
});

describe('estimateEmbeddingTokens', () => {
  it('sums the inputs', async () => {
    const input = ['first input', 'the second one'];
    expect(await estimateEmbeddingTokens({ model: 'openai/text-embedding-3-small', input }, 'openai')).toBe(
      exact('first input') + exact('the second one'),
    );
  });
});
