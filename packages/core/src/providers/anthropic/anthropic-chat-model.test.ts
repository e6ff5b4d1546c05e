import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, simulatedAnthropicReply, type Simulator } from '@llmq/simulator';
import type { ChatRequest } from '../../jobs/chat-request-schema.js';
import { ProviderError } from '../provider-error.js';
import { createAnthropicProvider } from './anthropic-provider.js';
import { toAnthropicRequest } from './to-anthropic-request.js';

let simulator: Simulator;
let baseURL: string;

beforeAll(async () => {
  simulator = createSimulator({ chunkDelayMs: 0 });
  ({ url: baseURL } = await simulator.listen(0));
});
afterAll(() => simulator.close());
beforeEach(() => {
  simulator.reset();
  simulator.configure({ apiKeys: null, chunkDelayMs: 0 });
});

const MODEL = 'claude-haiku-4-5';
const provider = () => createAnthropicProvider({ apiKey: 'sk-ant-test', baseURL });
const model = () => provider().chatModel(MODEL);
const call = { timeoutMs: 5_000 };

/** What the simulator answers to the request the adapter sends for `request`. */
function expectedReply(request: ChatRequest) {
  return simulatedAnthropicReply(toAnthropicRequest(request, { modelId: MODEL, defaultMaxTokens: 4096 }).params);
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

const request: ChatRequest = {
  model: `anthropic/${MODEL}`,
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is a token bucket?' },
  ],
  max_tokens: 200,
};

const weatherTools: ChatRequest['tools'] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

describe('AnthropicChatModel through the Anthropic SDK', () => {
  it('streams the simulator’s exact answer into the ChatCompletion shape, piece by piece', async () => {
    const deltas: string[] = [];
    const result = await model().doGenerate(request, { ...call, onTextDelta: (delta) => deltas.push(delta) });
    const expected = expectedReply(request);
    expect(result).toMatchObject({
      object: 'chat.completion',
      model: `anthropic/${MODEL}`,
      provider: 'anthropic',
      choices: [{ index: 0, message: { role: 'assistant', content: expected.text }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: expected.inputTokens,
        completion_tokens: expected.outputTokens,
        total_tokens: expected.inputTokens + expected.outputTokens,
      },
    });
    expect(result.id).toMatch(/^msg_/);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(expected.text);
    // The system prompt reaches the model: without it the answer differs.
    const withoutSystem = expectedReply({ ...request, messages: request.messages.slice(1) });
    expect(withoutSystem.text).not.toBe(expected.text);
  });

  it('sends a multi-turn conversation, merging consecutive messages of one role', async () => {
    const conversation: ChatRequest = {
      model: 'x',
      messages: [
        { role: 'developer', content: 'Answer in English.' },
        { role: 'user', content: 'Hello.' },
        { role: 'assistant', content: 'Hi! What can I do?' },
        { role: 'user', content: 'Explain leaky buckets.' },
        { role: 'user', content: [{ type: 'text', text: 'Briefly.' }] },
      ],
    };
    const result = await model().doGenerate(conversation, call);
    expect(result.choices[0]?.message.content).toBe(expectedReply(conversation).text);
  });

  it('returns tool calls with JSON-string arguments, and takes the tool result back', async () => {
    const question: ChatRequest = {
      model: 'x',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: weatherTools,
      tool_choice: 'required',
      parallel_tool_calls: false,
    };
    const first = await model().doGenerate(question, call);
    const toolCall = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(first.choices[0]?.message.content).toBeNull();
    expect(toolCall).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    expect(toolCall?.id).toMatch(/^toolu_/);
    expect(JSON.parse(toolCall?.function.arguments ?? '')).toEqual({ city: 'simulated' });
    if (toolCall === undefined) return;

    const followUp: ChatRequest = {
      model: 'x',
      tools: weatherTools,
      messages: [
        ...question.messages,
        { role: 'assistant', content: null, tool_calls: [toolCall] },
        { role: 'tool', tool_call_id: toolCall.id, content: '{"temp":3}' },
        { role: 'user', content: 'Thanks, and tomorrow?' },
      ],
    };
    const second = await model().doGenerate(followUp, call);
    expect(second.choices[0]?.finish_reason).toBe('stop');
    expect(second.choices[0]?.message.content).toBe(expectedReply(followUp).text);
  });

  it('answers json_schema through output_config, and json_object through a forced tool', async () => {
    const schema = {
      type: 'object',
      required: ['name', 'age'],
      properties: { name: { type: 'string' }, age: { type: 'integer' } },
    };
    const structured = await model().doGenerate(
      {
        model: 'x',
        messages: [{ role: 'user', content: 'A person' }],
        response_format: { type: 'json_schema', json_schema: { name: 'person', schema } },
      },
      call,
    );
    expect(JSON.parse(structured.choices[0]?.message.content ?? '')).toEqual({ name: 'simulated', age: 0 });

    const deltas: string[] = [];
    const json = await model().doGenerate(
      {
        model: 'x',
        messages: [{ role: 'user', content: 'Some JSON please' }],
        response_format: { type: 'json_object' },
      },
      { ...call, onTextDelta: (delta) => deltas.push(delta) },
    );
    const content = json.choices[0]?.message.content ?? '';
    expect(JSON.parse(content)).toEqual(expect.any(Object));
    expect(json.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant' } });
    expect(json.choices[0]?.message.tool_calls).toBeUndefined();
    expect(deltas.join('')).toBe(content);
  });

  it('sends images as base64 and URL sources', async () => {
    const withImages: ChatRequest = {
      model: 'x',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.webp', detail: 'auto' } },
          ],
        },
      ],
    };
    const result = await model().doGenerate(withImages, call);
    const expected = expectedReply(withImages);
    expect(result.usage.prompt_tokens).toBe(expected.inputTokens);
    expect(result.choices[0]?.message.content).toBe(expected.text);
  });

  it('maps stop sequences and the token cap to stop and length', async () => {
    const stopped = await model().doGenerate({ ...request, stop: [' to:'] }, call);
    expect(stopped.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'Simulated reply' } });
    const capped = await model().doGenerate({ ...request, max_completion_tokens: 3 }, call);
    expect(capped.choices[0]?.finish_reason).toBe('length');
    expect(capped.usage.completion_tokens).toBe(3);
  });

  it('refuses fields it cannot honour before calling the provider', async () => {
    const error = await failure(model().doGenerate({ ...request, temperature: 0.2, seed: 7 }, call));
    expect(error).toMatchObject({ kind: 'invalid_request', retryable: false });
    expect(error.message).toContain('temperature');
    expect(error.message).toContain('seed');
    expect(simulator.stats().requests.total).toBe(0);
  });
});

describe('AnthropicChatModel errors', () => {
  it.each([
    [
      '429 with retry-after',
      { fault: '429', retry_after_s: 3 },
      { kind: 'rate_limit', status: 429, retryable: true, retryAfterMs: 3000 },
    ],
    [
      '429 with retry-after-ms',
      { fault: '429', retry_after_ms: 1234 },
      { kind: 'rate_limit', status: 429, retryable: true, retryAfterMs: 1234 },
    ],
    ['529 overloaded', { fault: '529' }, { kind: 'overloaded', status: 529, retryable: true }],
    ['503 (overloaded, answered as 529)', { fault: '503' }, { kind: 'overloaded', status: 529, retryable: true }],
    ['500 api_error', { fault: '500' }, { kind: 'provider_error', status: 500, retryable: true }],
    [
      'a low credit balance',
      { fault: 'insufficient_quota' },
      { kind: 'quota_exceeded', status: 400, retryable: false },
    ],
    ['a reset connection', { fault: 'reset' }, { kind: 'connection', retryable: true }],
  ] as const)('maps %s', async (_name, rule, expected) => {
    simulator.setFaults([{ ...rule, count: 1 }]);
    expect(await failure(model().doGenerate(request, call))).toMatchObject({ provider: 'anthropic', ...expected });
  });

  it('maps a wrong or missing key to authentication and a bad request to invalid_request', async () => {
    simulator.configure({ apiKeys: ['sk-ant-right'] });
    const wrong = await failure(
      createAnthropicProvider({ apiKey: 'sk-ant-wrong', baseURL }).chatModel(MODEL).doGenerate(request, call),
    );
    expect(wrong).toMatchObject({ kind: 'authentication', status: 401, retryable: false });
    const missing = await failure(createAnthropicProvider({ baseURL }).chatModel(MODEL).doGenerate(request, call));
    expect(missing).toMatchObject({ kind: 'authentication', retryable: false });
    simulator.configure({ apiKeys: null });
    const unknownTool = {
      ...request,
      tools: weatherTools,
      tool_choice: { type: 'function', function: { name: 'nope' } },
    } as const;
    const invalid = await failure(model().doGenerate(unknownTool, call));
    expect(invalid).toMatchObject({ kind: 'invalid_request', status: 400, retryable: false });
  });

  it('times out a hanging call, stops a silent stream, and cancels on abort', async () => {
    simulator.setFaults([{ fault: 'hang', count: 1 }]);
    const timeout = await failure(model().doGenerate(request, { timeoutMs: 300 }));
    expect(timeout).toMatchObject({ kind: 'timeout', retryable: true });

    simulator.configure({ chunkDelayMs: 400 });
    const idle = await failure(model().doGenerate(request, { timeoutMs: 10_000, idleTimeoutMs: 150 }));
    expect(idle).toMatchObject({ kind: 'timeout' });
    expect(idle.message).toContain('silent for 150 ms');
    simulator.configure({ chunkDelayMs: 0 });

    simulator.setFaults([{ fault: 'hang', count: 1 }]);
    const controller = new AbortController();
    const pending = model().doGenerate(request, { timeoutMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect(await failure(pending)).toMatchObject({ kind: 'canceled', retryable: false });
  });
});
