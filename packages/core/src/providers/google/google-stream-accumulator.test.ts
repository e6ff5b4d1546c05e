import { describe, expect, it } from 'vitest';
import { ProviderError } from '../provider-error.js';
import { GoogleStreamAccumulator } from './google-stream-accumulator.js';

function accumulate(chunks: unknown[]) {
  const accumulator = new GoogleStreamAccumulator({ provider: 'google', model: 'google/gemini-2.5-flash' });
  const deltas = chunks.map((chunk) => accumulator.add(chunk));
  return { deltas, result: () => accumulator.result() };
}

const text = (value: string, extra: object = {}) => ({
  candidates: [{ content: { role: 'model', parts: [{ text: value }] }, index: 0, ...extra }],
});

describe('GoogleStreamAccumulator', () => {
  it('joins text, leaves thoughts out, and counts thinking tokens as completion', () => {
    const { deltas, result } = accumulate([
      { candidates: [{ content: { parts: [{ text: 'planning...', thought: true }] } }] },
      text('Hel'),
      {
        ...text('lo', { finishReason: 'STOP' }),
        responseId: 'r-1',
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2, thoughtsTokenCount: 10, totalTokenCount: 17 },
      },
    ]);
    expect(deltas).toEqual(['', 'Hel', 'lo']);
    expect(result()).toMatchObject({
      id: 'r-1',
      choices: [{ message: { content: 'Hello' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 12, total_tokens: 17 },
    });
  });

  it('reports the cached content tokens, already part of the prompt count, as cached prompt tokens', () => {
    const { result } = accumulate([
      {
        ...text('ok', { finishReason: 'STOP' }),
        usageMetadata: {
          promptTokenCount: 1_500,
          cachedContentTokenCount: 1_280,
          candidatesTokenCount: 1,
          totalTokenCount: 1_501,
        },
      },
    ]);
    expect(result().usage).toEqual({
      prompt_tokens: 1_500,
      completion_tokens: 1,
      total_tokens: 1_501,
      prompt_tokens_details: { cached_tokens: 1_280 },
    });
  });

  it('counts no cached tokens when Gemini leaves the count out, as it leaves out every zero', () => {
    const { result } = accumulate([
      { ...text('ok', { finishReason: 'STOP' }), usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1 } },
    ]);
    expect(result().usage).toEqual({
      prompt_tokens: 5,
      completion_tokens: 1,
      total_tokens: 6,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it('keeps Gemini’s function call ids, numbering the calls that have none', () => {
    const { result } = accumulate([
      {
        candidates: [
          {
            content: {
              parts: [{ functionCall: { id: 'fc-9', name: 'a', args: { x: 1 } } }, { functionCall: { name: 'b' } }],
            },
            finishReason: 'STOP',
          },
        ],
      },
    ]);
    expect(result().choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [
          { id: 'fc-9', function: { name: 'a', arguments: '{"x":1}' } },
          { id: 'call_1', function: { name: 'b', arguments: '{}' } },
        ],
      },
    });
  });

  it.each(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII'])(
    'maps %s to content_filter',
    (reason) => {
      const { result } = accumulate([text('par', { finishReason: reason })]);
      expect(result().choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: 'par' } });
    },
  );

  it('answers a blocked prompt with content_filter and null content', () => {
    const { result } = accumulate([
      { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 } },
    ]);
    expect(result()).toMatchObject({
      choices: [{ message: { content: null }, finish_reason: 'content_filter' }],
      usage: { prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 },
    });
  });

  it('maps MAX_TOKENS to length', () => {
    expect(accumulate([text('cut', { finishReason: 'MAX_TOKENS' })]).result().choices[0]?.finish_reason).toBe('length');
  });

  it.each([
    ['a stream without a finish reason', [text('half')]],
    ['a malformed function call', [{ candidates: [{ finishReason: 'MALFORMED_FUNCTION_CALL' }] }]],
  ])('fails, retryably, on %s', (_name, chunks) => {
    const { result } = accumulate(chunks);
    expect(() => result()).toThrow(ProviderError);
    try {
      result();
    } catch (error) {
      expect(error).toMatchObject({ kind: 'provider_error', retryable: true });
    }
  });
});
