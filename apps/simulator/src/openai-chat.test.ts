import { countTokens } from 'gpt-tokenizer';
import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from './__fixtures__/running-simulator.js';
import { simulatedChatReply } from './openai-chat-request.js';

let running: RunningSimulator;
beforeAll(async () => {
  running = await startSimulator();
});
afterAll(() => running.close());

const plainRequest: ChatCompletionCreateParamsNonStreaming = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Summarise the plot of Hamlet in one sentence, please.' },
  ],
  temperature: 0.2,
};

describe('POST /v1/chat/completions through the openai SDK', () => {
  it('answers a deterministic ChatCompletion that simulatedChatReply recomputes', async () => {
    const completion = await running.client.chat.completions.create(plainRequest);
    const expected = simulatedChatReply(plainRequest);

    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-[0-9a-f]{29}$/);
    expect(completion.model).toBe('gpt-4o-mini');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(completion.choices[0]?.message.content).toBe(expected.content);
    expect(completion.choices[0]?.message.content).toMatch(
      /^Simulated reply to: Summarise the plot of Hamlet in one sen/,
    );
    expect(completion.choices[0]?.finish_reason).toBe('stop');

    const again = await running.client.chat.completions.create(plainRequest);
    expect(again.id).toBe(completion.id);
    expect(again.choices[0]?.message.content).toBe(completion.choices[0]?.message.content);

    const otherTemperature = await running.client.chat.completions.create({ ...plainRequest, temperature: 0.9 });
    expect(otherTemperature.choices[0]?.message.content).not.toBe(completion.choices[0]?.message.content);
  });

  it('reports usage equal to a recount with gpt-tokenizer', async () => {
    const completion = await running.client.chat.completions.create(plainRequest);
    // 3 for the reply priming, then per message 3 + tokens(role) + tokens(content).
    const promptTokens =
      3 +
      plainRequest.messages.reduce(
        (sum, message) => sum + 3 + countTokens(message.role) + countTokens(String(message.content)),
        0,
      );
    const content = completion.choices[0]?.message.content ?? '';
    expect(completion.usage?.prompt_tokens).toBe(promptTokens);
    expect(completion.usage?.completion_tokens).toBe(countTokens(content));
    expect(completion.usage?.total_tokens).toBe(promptTokens + countTokens(content));
  });

  it('streams chunks that reassemble the non-streamed content, then a usage chunk', async () => {
    const plain = await running.client.chat.completions.create(plainRequest);
    const stream = await running.client.chat.completions.create({
      ...plainRequest,
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    let contentChunks = 0;
    let finishReason: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.id).toBe(plain.id);
      const choice = chunk.choices[0];
      if (choice?.delta.content) {
        content += choice.delta.content;
        contentChunks += 1;
      }
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      if (chunk.choices.length === 0) usage = chunk.usage;
    }
    expect(content).toBe(plain.choices[0]?.message.content);
    expect(contentChunks).toBeGreaterThan(1);
    expect(finishReason).toBe('stop');
    expect(usage?.prompt_tokens).toBe(plain.usage?.prompt_tokens);
    expect(usage?.completion_tokens).toBe(plain.usage?.completion_tokens);
  });

  it('cuts the reply at max_tokens with finish_reason "length"', async () => {
    const completion = await running.client.chat.completions.create({ ...plainRequest, max_tokens: 4 });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(4);
    const full = simulatedChatReply(plainRequest).content ?? '';
    expect(full.startsWith(completion.choices[0]?.message.content ?? '-')).toBe(true);
  });

  it('calls the weather tool when the user asks about the weather', async () => {
    const request: ChatCompletionCreateParamsNonStreaming = {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
    };
    const completion = await running.client.chat.completions.create(request);
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    expect(call?.id).toMatch(/^call_[0-9a-f]{24}$/);
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'simulated' });
    expect(simulatedChatReply(request).toolCalls[0]?.id).toBe(call.id);

    const stream = await running.client.chat.completions.create({ ...request, stream: true });
    let name = '';
    let argumentsText = '';
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        name += delta.function?.name ?? '';
        argumentsText += delta.function?.arguments ?? '';
      }
    }
    expect(name).toBe('get_weather');
    expect(argumentsText).toBe(call.function.arguments);
  });

  it('honours tool_choice "required" and a named function; answers text after a tool result', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'search' } },
      { type: 'function', function: { name: 'lookup' } },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Find cats' }];
    const required = await running.client.chat.completions.create({
      model: 'm',
      messages,
      tools,
      tool_choice: 'required',
    });
    const requiredCall = required.choices[0]?.message.tool_calls?.[0];
    expect(requiredCall?.type === 'function' && requiredCall.function.name).toBe('search');
    expect(requiredCall?.type === 'function' && JSON.parse(requiredCall.function.arguments)).toEqual({
      query: 'Find cats',
    });

    const named = await running.client.chat.completions.create({
      model: 'm',
      messages,
      tools,
      tool_choice: { type: 'function', function: { name: 'lookup' } },
    });
    const namedCall = named.choices[0]?.message.tool_calls?.[0];
    expect(namedCall?.type === 'function' && namedCall.function.name).toBe('lookup');

    const auto = await running.client.chat.completions.create({ model: 'm', messages, tools });
    expect(auto.choices[0]?.finish_reason).toBe('stop');
  });

  it('answers json_schema output that parses and has the required keys', async () => {
    const completion = await running.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Describe a person.' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'person',
          strict: true,
          schema: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              age: { type: 'integer' },
              tags: { type: 'array', items: { type: 'string' } },
              address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
              role: { type: 'string', enum: ['admin', 'user'] },
              active: { type: 'boolean' },
              nickname: { type: 'string' },
            },
            required: ['name', 'age', 'tags', 'address', 'role', 'active'],
          },
        },
      },
    });
    const parsed: unknown = JSON.parse(completion.choices[0]?.message.content ?? '');
    expect(parsed).toEqual({
      name: 'simulated',
      age: 0,
      tags: [],
      address: { city: 'simulated' },
      role: 'admin',
      active: true,
    });
  });

  it('answers valid JSON for json_object', async () => {
    const completion = await running.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Reply in JSON.' }],
      response_format: { type: 'json_object' },
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toHaveProperty('reply');
  });
});
