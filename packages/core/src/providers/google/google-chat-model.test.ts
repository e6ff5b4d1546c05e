import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, simulatedGeminiReply, type Simulator } from '@llmq/simulator';
import type { ChatRequest } from '../../jobs/chat-request-schema.js';
import { ProviderError } from '../provider-error.js';
import { createGoogleProvider } from './google-provider.js';

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

const MODEL = 'gemini-2.5-flash';
const provider = () => createGoogleProvider({ apiKey: 'gemini-test-key', baseURL });
const model = () => provider().chatModel(MODEL);
const call = { timeoutMs: 5_000 };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

const request: ChatRequest = {
  model: 'google/gemini-2.5-flash',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'developer', content: 'Answer in English.' },
    { role: 'user', content: 'What is a token bucket?' },
  ],
  max_tokens: 40,
  temperature: 0.3,
};

describe('GoogleChatModel through @google/genai', () => {
  it('streams the simulator’s exact answer into the ChatCompletion shape', async () => {
    const deltas: string[] = [];
    const result = await model().doGenerate(request, { ...call, onTextDelta: (delta) => deltas.push(delta) });
    // What the SDK must have sent: both instructions as the system instruction, the cap mapped.
    const expected = simulatedGeminiReply(MODEL, {
      systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Answer in English.' }] },
      contents: [{ role: 'user', parts: [{ text: 'What is a token bucket?' }] }],
      generationConfig: { temperature: 0.3, maxOutputTokens: 40 },
    });
    expect(result).toMatchObject({
      object: 'chat.completion',
      model: 'google/gemini-2.5-flash',
      provider: 'google',
      choices: [{ index: 0, message: { role: 'assistant', content: expected.content }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: expected.promptTokens,
        completion_tokens: expected.completionTokens,
        total_tokens: expected.promptTokens + expected.completionTokens,
      },
    });
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(expected.content);
  });

  it('carries a multi-turn conversation and maps a cut answer to length', async () => {
    const result = await model().doGenerate(
      {
        model: 'x',
        messages: [
          { role: 'user', content: 'Hi there' },
          { role: 'assistant', content: 'Hello!' },
          { role: 'user', content: [{ type: 'text', text: 'Tell me about fjords' }] },
        ],
        max_completion_tokens: 3,
      },
      call,
    );
    expect(result.choices[0]?.finish_reason).toBe('length');
    expect(result.choices[0]?.message.content).toMatch(/^Simulated/);
    expect(result.usage.completion_tokens).toBe(3);
  });

  it('returns a tool call, then answers the tool result in a full round trip', async () => {
    const tools: ChatRequest['tools'] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } },
        },
      },
    ];
    const question = { role: 'user' as const, content: 'weather in Oslo?' };
    const first = await model().doGenerate({ model: 'x', messages: [question], tools, tool_choice: 'required' }, call);
    expect(first.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather' } }],
      },
    });
    const toolCall = first.choices[0]?.message.tool_calls?.[0];
    expect(JSON.parse(toolCall?.function.arguments ?? '')).toEqual({ city: 'simulated' });

    const second = await model().doGenerate(
      {
        model: 'x',
        tools,
        messages: [
          question,
          { role: 'assistant', content: null, tool_calls: toolCall ? [toolCall] : [] },
          { role: 'tool', tool_call_id: 'call_0', content: '{"temperature":3}' },
        ],
      },
      call,
    );
    expect(second.choices[0]?.finish_reason).toBe('stop');
    expect(second.choices[0]?.message.content).toMatch(/^Simulated reply to: weather in Oslo\?/);
  });

  it('answers json_schema through responseJsonSchema with the required keys', async () => {
    const result = await model().doGenerate(
      {
        model: 'x',
        messages: [{ role: 'user', content: 'give me a person' }],
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'person',
            strict: true,
            schema: {
              type: 'object',
              required: ['name', 'age'],
              properties: { name: { type: 'string' }, age: { type: 'integer' } },
            },
          },
        },
      },
      call,
    );
    expect(JSON.parse(result.choices[0]?.message.content ?? '')).toEqual({ name: 'simulated', age: 0 });
  });

  it('sends images as inline data and as https file data', async () => {
    const result = await model().doGenerate(
      {
        model: 'x',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in these pictures?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'auto' } },
            ],
          },
        ],
      },
      call,
    );
    const expected = simulatedGeminiReply(MODEL, {
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'What is in these pictures?' },
            { inlineData: { mimeType: 'image/png', data: PNG } },
            { fileData: { fileUri: 'https://example.com/cat.jpg', mimeType: 'image/jpeg' } },
          ],
        },
      ],
    });
    expect(result.usage.prompt_tokens).toBe(expected.promptTokens);
    expect(result.choices[0]?.message.content).toBe(expected.content);
  });

  it('refuses a request with problems before any HTTP request', async () => {
    const error = await failure(model().doGenerate({ ...request, user: 'u-1' }, call));
    expect(error).toMatchObject({ kind: 'invalid_request', retryable: false });
    expect(error.message).toContain('user is not supported');
    expect(simulator.stats().requests.total).toBe(0);
  });
});

describe('GoogleChatModel errors', () => {
  it.each([
    ['429 with retry_after_ms', { fault: '429', retry_after_ms: 1234 }, { kind: 'rate_limit', retryAfterMs: 1234 }],
    ['429 with retry_after_s', { fault: '429', retry_after_s: 3 }, { kind: 'rate_limit', retryAfterMs: 3000 }],
    ['a per-day quota', { fault: 'insufficient_quota' }, { kind: 'quota_exceeded', status: 429, retryable: false }],
    ['500', { fault: '500' }, { kind: 'provider_error', status: 500, retryable: true }],
    ['503', { fault: '503' }, { kind: 'overloaded', status: 503, retryable: true }],
    ['a reset connection', { fault: 'reset' }, { kind: 'connection', retryable: true }],
  ] as const)('maps %s', async (_name, rule, expected) => {
    simulator.setFaults([{ ...rule, count: 1 }]);
    const error = await failure(model().doGenerate(request, call));
    expect(error).toMatchObject({ provider: 'google', ...expected });
  });

  it('makes exactly one HTTP request per call: SDK retries are off', async () => {
    simulator.setFaults([{ fault: '503', count: 1 }]);
    await failure(model().doGenerate(request, call));
    expect(simulator.stats().requests.total).toBe(1);
  });

  it('maps a wrong key (a 400 with API_KEY_INVALID) to authentication, a bad request to invalid_request', async () => {
    simulator.configure({ apiKeys: ['right-key'] });
    const auth = await failure(model().doGenerate(request, call));
    expect(auth).toMatchObject({ kind: 'authentication', status: 400, retryable: false });
    simulator.configure({ apiKeys: null });
    const badName = [{ type: 'function' as const, function: { name: '1st_tool' } }];
    const invalid = await failure(model().doGenerate({ ...request, tools: badName }, call));
    expect(invalid).toMatchObject({ kind: 'invalid_request', status: 400, retryable: false });
    expect(invalid.message).toContain('INVALID_ARGUMENT');
  });

  it('fails without an API key before any request', async () => {
    const error = await failure(createGoogleProvider({ baseURL }).chatModel(MODEL).doGenerate(request, call));
    expect(error).toMatchObject({ kind: 'authentication', retryable: false });
    expect(simulator.stats().requests.total).toBe(0);
  });

  it('times out a hanging call, and stops a silent stream with the idle limit', async () => {
    simulator.setFaults([{ fault: 'hang', count: 1 }]);
    const started = Date.now();
    const timeout = await failure(model().doGenerate(request, { timeoutMs: 300 }));
    expect(timeout).toMatchObject({ kind: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(3_000);

    simulator.configure({ chunkDelayMs: 400 });
    const idle = await failure(model().doGenerate(request, { timeoutMs: 10_000, idleTimeoutMs: 150 }));
    expect(idle.kind).toBe('timeout');
    expect(idle.message).toContain('silent for 150 ms');
  });

  it('rejects with canceled when the caller aborts', async () => {
    simulator.setFaults([{ fault: 'hang', count: 1 }]);
    const controller = new AbortController();
    const pending = model().doGenerate(request, { timeoutMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect(await failure(pending)).toMatchObject({ kind: 'canceled', retryable: false });
  });

  it('accepts a base URL ending in /v1beta', async () => {
    const result = await createGoogleProvider({ apiKey: 'k', baseURL: `${baseURL}/v1beta/` })
      .chatModel(MODEL)
      .doGenerate(request, call);
    expect(result.choices[0]?.finish_reason).toBe('stop');
  });
});
