import { describe, expect, it } from 'vitest';
import { OpenAIStreamAccumulator } from './openai-stream-accumulator.js';

const answer = {
  id: 'chatcmpl-1',
  created: 1,
  choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }],
};

/** The usage of a stream that ends with a usage chunk carrying `usage`. */
function usageAfter(usage: unknown) {
  const accumulator = new OpenAIStreamAccumulator({ provider: 'openai', model: 'openai/gpt-4o-mini' });
  accumulator.add(answer);
  accumulator.add({ id: 'chatcmpl-1', choices: [], usage });
  return accumulator.result().usage;
}

describe('OpenAIStreamAccumulator usage', () => {
  it('keeps the cached prompt tokens of the usage chunk in OpenAI’s shape', () => {
    const usage = usageAfter({
      prompt_tokens: 2_000,
      completion_tokens: 5,
      total_tokens: 2_005,
      prompt_tokens_details: { cached_tokens: 1_920, audio_tokens: 0 },
    });
    expect(usage).toEqual({
      prompt_tokens: 2_000,
      completion_tokens: 5,
      total_tokens: 2_005,
      prompt_tokens_details: { cached_tokens: 1_920 },
    });
  });

  it.each([
    ['no details', { prompt_tokens: 9, completion_tokens: 1 }],
    ['null details', { prompt_tokens: 9, completion_tokens: 1, prompt_tokens_details: null }],
    ['details without a cached count', { prompt_tokens: 9, completion_tokens: 1, prompt_tokens_details: {} }],
  ])('counts no cached tokens when a compatible server sends %s', (_case, sent) => {
    expect(usageAfter(sent)).toEqual({
      prompt_tokens: 9,
      completion_tokens: 1,
      total_tokens: 10,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });
});
