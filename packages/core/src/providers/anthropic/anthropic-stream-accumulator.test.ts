import { describe, expect, it } from 'vitest';
import { ProviderError } from '../provider-error.js';
import { AnthropicStreamAccumulator } from './anthropic-stream-accumulator.js';

const start = {
  type: 'message_start',
  message: { id: 'msg_1', usage: { input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 1 } },
};
const stop = (reason: string, extra: object = {}) => ({
  type: 'message_delta',
  delta: { stop_reason: reason, stop_sequence: null, ...extra },
  usage: { output_tokens: 7, input_tokens: null },
});

function fold(events: readonly unknown[], jsonObjectTool?: string) {
  const accumulator = new AnthropicStreamAccumulator({ provider: 'anthropic', model: 'anthropic/m', jsonObjectTool });
  const deltas = events.map((event) => accumulator.add(event)).filter((delta) => delta !== '');
  return { deltas, result: () => accumulator.result() };
}

describe('AnthropicStreamAccumulator', () => {
  it('joins text, skips thinking and unknown events, and sums cached input into prompt tokens', () => {
    const { deltas, result } = fold([
      start,
      { type: 'ping' },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hello' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: ' world' } },
      { type: 'some_future_event', whatever: true },
      stop('end_turn'),
      { type: 'message_stop' },
    ]);
    expect(deltas).toEqual(['Hello', ' world']);
    expect(result()).toMatchObject({
      id: 'msg_1',
      choices: [{ message: { content: 'Hello world' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 15, completion_tokens: 7, total_tokens: 22 },
    });
  });

  it('reports the cache reads as cached prompt tokens, and cache writes as plain prompt tokens', () => {
    const { result } = fold([
      {
        type: 'message_start',
        message: {
          id: 'msg_2',
          usage: {
            input_tokens: 4,
            cache_creation_input_tokens: 100,
            cache_read_input_tokens: 1_024,
            output_tokens: 1,
          },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: 'ok' } },
      stop('end_turn'),
      { type: 'message_stop' },
    ]);
    expect(result().usage).toEqual({
      prompt_tokens: 1_128,
      completion_tokens: 7,
      total_tokens: 1_135,
      prompt_tokens_details: { cached_tokens: 1_024 },
    });
  });

  it('counts no cached tokens when the usage has no cache reads', () => {
    const { result } = fold([
      { type: 'message_start', message: { id: 'msg_3', usage: { input_tokens: 4, output_tokens: 1 } } },
      stop('end_turn'),
      { type: 'message_stop' },
    ]);
    expect(result().usage).toEqual({
      prompt_tokens: 4,
      completion_tokens: 7,
      total_tokens: 11,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it('assembles tool calls from input_json_delta pieces, in block order', () => {
    const { result } = fold([
      start,
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_a', name: 'f', input: {} },
      },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"x":' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '1}' } },
      {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 'toolu_b', name: 'g', input: {} },
      },
      stop('tool_use'),
      { type: 'message_stop' },
    ]);
    expect(result().choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'toolu_a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
          { id: 'toolu_b', type: 'function', function: { name: 'g', arguments: '{}' } },
        ],
      },
      finish_reason: 'tool_calls',
    });
  });

  it('turns the forced json tool into content and a stop', () => {
    const { deltas, result } = fold(
      [
        start,
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 't', name: 'json', input: {} },
        },
        { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"a":' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: 'true}' } },
        stop('tool_use'),
        { type: 'message_stop' },
      ],
      'json',
    );
    expect(deltas).toEqual(['{"a":', 'true}']);
    expect(result().choices[0]).toMatchObject({ message: { content: '{"a":true}' }, finish_reason: 'stop' });
    expect(result().choices[0]?.message.tool_calls).toBeUndefined();
  });

  it('reports a refusal as content_filter with its explanation', () => {
    const details = { stop_details: { category: 'cyber', explanation: 'That could enable harm.' } };
    const { result } = fold([start, stop('refusal', details), { type: 'message_stop' }]);
    expect(result().choices[0]).toMatchObject({
      message: { content: null, refusal: 'That could enable harm.' },
      finish_reason: 'content_filter',
    });
  });

  it('fails on a stream cut before message_stop, and on malformed events', () => {
    expect(() => fold([start, stop('end_turn')]).result()).toThrow(ProviderError);
    expect(() => fold([]).result()).toThrow('the stream ended without an answer');
    expect(() => fold([{ type: 'message_start', message: {} }])).toThrow('malformed message_start event');
  });
});
