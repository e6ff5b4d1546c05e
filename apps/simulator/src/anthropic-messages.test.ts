import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { simulatedAnthropicReply } from './anthropic-messages-reply.js';
import { createSimulator, type Simulator } from './server.js';

let simulator: Simulator;
let url: string;
let client: Anthropic;

beforeAll(async () => {
  simulator = createSimulator();
  ({ url } = await simulator.listen(0));
  client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: url, maxRetries: 0 });
});
afterEach(() => {
  simulator.reset();
  simulator.configure({ apiKeys: null, limits: null });
});
afterAll(() => simulator.close());

const plain = {
  model: 'claude-haiku-4-5',
  max_tokens: 200,
  system: 'You are terse.',
  messages: [{ role: 'user' as const, content: 'Summarise the plot of Hamlet in one sentence.' }],
};

const weatherTool = {
  name: 'get_weather',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('POST /v1/messages through the Anthropic SDK', () => {
  it('answers a Message that simulatedAnthropicReply recomputes, with a request id', async () => {
    const { data: message, response } = await client.messages.create(plain).withResponse();
    const expected = simulatedAnthropicReply(plain);
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5',
      content: [{ type: 'text', text: expected.text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: expected.inputTokens, output_tokens: expected.outputTokens },
    });
    expect(message.id).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(expected.text).toMatch(/^Simulated reply to: Summarise the plot of Hamlet in one sen/);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
  });

  it('streams the named events whose text deltas rebuild the plain answer', async () => {
    const whole = await client.messages.create(plain);
    const stream = await client.messages.create({ ...plain, stream: true });
    const types: string[] = [];
    let text = '';
    let outputTokens = 0;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'message_start') expect(event.message.id).toBe(whole.id);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      if (event.type === 'message_delta') {
        expect(event.delta.stop_reason).toBe('end_turn');
        outputTokens = event.usage.output_tokens;
      }
    }
    expect(types[0]).toBe('message_start');
    expect(types.slice(1, 2)).toEqual(['content_block_start']);
    expect(types.filter((type) => type === 'content_block_delta').length).toBeGreaterThan(1);
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(text).toBe(whole.content[0]?.type === 'text' ? whole.content[0].text : undefined);
    expect(outputTokens).toBe(whole.usage.output_tokens);
  });

  it('sends ping events on the wire', async () => {
    const response = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2026-10-21' },
      body: JSON.stringify({ ...plain, stream: true }),
    });
    const text = await response.text();
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(text).toMatch(/^event: message_start\ndata: \{"type":"message_start"/);
    expect(text).toContain('event: ping\ndata: {"type":"ping"}\n\n');
    expect(text.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
  });

  it('answers a forced tool with a tool_use block, streamed as input_json_delta', async () => {
    const request = {
      ...plain,
      tools: [weatherTool],
      tool_choice: { type: 'any' as const },
      messages: [{ role: 'user' as const, content: 'Weather in Oslo?' }],
    };
    const message = await client.messages.create(request);
    expect(message.stop_reason).toBe('tool_use');
    const block = message.content[0];
    expect(block).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'simulated' } });
    expect(block?.type === 'tool_use' ? block.id : '').toMatch(/^toolu_[0-9a-f]{24}$/);

    let partialJson = '';
    for await (const event of await client.messages.create({ ...request, stream: true })) {
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') {
        partialJson += event.delta.partial_json;
      }
    }
    expect(JSON.parse(partialJson)).toEqual({ city: 'simulated' });
  });

  it('answers output_config json_schema with schema-shaped JSON', async () => {
    const message = await client.messages.create({
      ...plain,
      output_config: {
        format: {
          type: 'json_schema',
          schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        },
      },
    });
    const block = message.content[0];
    expect(JSON.parse(block?.type === 'text' ? block.text : '')).toEqual({ name: 'simulated' });
  });

  it('reports stop_sequence and max_tokens stops', async () => {
    const stopped = await client.messages.create({ ...plain, stop_sequences: [' to:'] });
    expect(stopped).toMatchObject({
      stop_reason: 'stop_sequence',
      stop_sequence: ' to:',
      content: [{ type: 'text', text: 'Simulated reply' }],
    });
    const capped = await client.messages.create({ ...plain, max_tokens: 3 });
    expect(capped.stop_reason).toBe('max_tokens');
    expect(capped.usage.output_tokens).toBe(3);
  });
});

describe('faults, limits and stats on /v1/messages', () => {
  async function failure(): Promise<InstanceType<typeof Anthropic.APIError>> {
    const error = await client.messages.create(plain).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(Anthropic.APIError);
    return error as InstanceType<typeof Anthropic.APIError>;
  }

  it('renders every fault kind in the Anthropic error format', async () => {
    simulator.setFaults([
      { fault: '429', retry_after_s: 3, count: 1 },
      { fault: '529', count: 1 },
      { fault: '503', count: 1 },
      { fault: '500', count: 1 },
      { fault: 'insufficient_quota', count: 1 },
    ]);
    const rateLimited = await failure();
    expect(rateLimited).toBeInstanceOf(Anthropic.RateLimitError);
    expect(rateLimited.type).toBe('rate_limit_error');
    expect(rateLimited.headers?.get('retry-after')).toBe('3');
    expect(rateLimited.headers?.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    expect(rateLimited.headers?.get('anthropic-ratelimit-requests-reset')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    for (const status of [529, 529]) {
      const overloaded = await failure();
      expect(overloaded).toBeInstanceOf(Anthropic.OverloadedError);
      expect(overloaded).toMatchObject({ status, type: 'overloaded_error', apiMessage: 'Overloaded' });
    }
    expect(await failure()).toMatchObject({ status: 500, type: 'api_error' });
    const broke = await failure();
    expect(broke).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(broke.apiMessage).toMatch(/credit balance is too low/);
  });

  it('answers fault "529" on the OpenAI wire format with status 529 too', async () => {
    simulator.setFaults([{ fault: '529', count: 1 }]);
    const openai = new OpenAI({ apiKey: 'k', baseURL: `${url}/v1`, maxRetries: 0 });
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ status: 529, type: 'server_error' });
  });

  it('names the rate-limit state anthropic-ratelimit-* with RFC 3339 resets, and counts the calls', async () => {
    simulator.configure({ limits: { 'claude-haiku-4-5': { rpm: 2, tpm: 100_000 } } });
    const { response } = await client.messages.create(plain).withResponse();
    expect(response.headers.get('anthropic-ratelimit-requests-limit')).toBe('2');
    expect(response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('1');
    expect(response.headers.get('anthropic-ratelimit-tokens-limit')).toBe('100000');
    expect(response.headers.get('anthropic-ratelimit-requests-reset')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(response.headers.get('x-ratelimit-limit-requests')).toBeNull();
    await client.messages.create(plain);
    const refused = await failure();
    expect(refused).toMatchObject({ status: 429, type: 'rate_limit_error' });
    expect(Number(refused.headers?.get('retry-after'))).toBeGreaterThan(0);
    const stats = simulator.stats();
    expect(stats.requests.byPath['/v1/messages']).toBe(3);
    expect(stats.requests.byModel['claude-haiku-4-5']).toBe(3);
    expect(stats.requests.rateLimited).toBe(1);
  });
});
