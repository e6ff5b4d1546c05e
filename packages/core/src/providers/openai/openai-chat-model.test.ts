import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, simulatedChatReply, simulatedEmbedding, type Simulator } from '@llmq/simulator';
import type { ChatRequest } from '../../jobs/chat-request-schema.js';
import { ProviderError } from '../provider-error.js';
import { createOpenAIProvider } from './openai-provider.js';
import { OpenAIEmbeddingModel } from './openai-embedding-model.js';
import OpenAI from 'openai';

let simulator: Simulator;
let baseURL: string;

beforeAll(async () => {
  simulator = createSimulator({ chunkDelayMs: 0 });
  const { url } = await simulator.listen(0);
  baseURL = `${url}/v1`;
});
afterAll(() => simulator.close());
beforeEach(() => simulator.reset());

const provider = () => createOpenAIProvider({ apiKey: 'sk-test', baseURL });
const call = { timeoutMs: 5_000 };

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('OpenAIChatModel through the openai SDK', () => {
  const request: ChatRequest = {
    model: 'openai/gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is a token bucket?' },
    ],
    max_tokens: 40,
  };

  it('streams and returns the simulator’s exact answer in the ChatCompletion shape', async () => {
    const deltas: string[] = [];
    const result = await provider()
      .chatModel('gpt-4o-mini')
      .doGenerate(request, { ...call, onTextDelta: (delta) => deltas.push(delta) });
    const expected = simulatedChatReply({ ...request, model: 'gpt-4o-mini' });
    expect(result).toMatchObject({
      object: 'chat.completion',
      model: 'openai/gpt-4o-mini',
      provider: 'openai',
      choices: [
        { index: 0, message: { role: 'assistant', content: expected.content }, finish_reason: expected.finishReason },
      ],
      usage: {
        prompt_tokens: expected.promptTokens,
        completion_tokens: expected.completionTokens,
        total_tokens: expected.promptTokens + expected.completionTokens,
      },
    });
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(expected.content);
  });

  it('returns tool calls with JSON-string arguments, and takes the tool result back', async () => {
    const tools: ChatRequest['tools'] = [
      {
        type: 'function',
        function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      },
    ];
    const first = await provider()
      .chatModel('gpt-4o-mini')
      .doGenerate(
        { model: 'x', messages: [{ role: 'user', content: 'weather in Oslo?' }], tools, tool_choice: 'required' },
        call,
      );
    const toolCall = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(toolCall?.function.name).toBe('get_weather');
    expect(() => JSON.parse(toolCall?.function.arguments ?? '')).not.toThrow();

    const second = await provider()
      .chatModel('gpt-4o-mini')
      .doGenerate(
        {
          model: 'x',
          tools,
          messages: [
            { role: 'user', content: 'weather in Oslo?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [toolCall ?? { id: '', type: 'function', function: { name: '', arguments: '' } }],
            },
            { role: 'tool', tool_call_id: toolCall?.id ?? '', content: '{"temp":3}' },
          ],
        },
        call,
      );
    expect(second.choices[0]?.finish_reason).toBe('stop');
    expect(second.choices[0]?.message.content).toEqual(expect.any(String));
  });

  it('answers json_schema requests with JSON holding the required keys', async () => {
    const result = await provider()
      .chatModel('gpt-4o-mini')
      .doGenerate(
        {
          model: 'x',
          messages: [{ role: 'user', content: 'give me a person' }],
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: 'person',
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
    const parsed = JSON.parse(result.choices[0]?.message.content ?? '') as Record<string, unknown>;
    expect(typeof parsed.name).toBe('string');
    expect(typeof parsed.age).toBe('number');
  });

  it.each([
    [
      '429 with retry-after-ms',
      { fault: '429', retry_after_ms: 1234 },
      { kind: 'rate_limit', status: 429, retryable: true, retryAfterMs: 1234 },
    ],
    [
      '429 with retry-after',
      { fault: '429', retry_after_s: 3 },
      { kind: 'rate_limit', status: 429, retryable: true, retryAfterMs: 3000 },
    ],
    ['insufficient_quota', { fault: 'insufficient_quota' }, { kind: 'quota_exceeded', status: 429, retryable: false }],
    ['500', { fault: '500' }, { kind: 'provider_error', status: 500, retryable: true }],
    ['503', { fault: '503' }, { kind: 'overloaded', status: 503, retryable: true }],
    ['a reset connection', { fault: 'reset' }, { kind: 'connection', retryable: true }],
  ] as const)('maps %s', async (_name, rule, expected) => {
    simulator.setFaults([{ ...rule, count: 1 }]);
    const error = await failure(provider().chatModel('gpt-4o-mini').doGenerate(request, call));
    expect(error).toMatchObject({ provider: 'openai', ...expected });
  });

  it('maps a wrong key to authentication and a bad request to invalid_request, neither retryable', async () => {
    simulator.configure({ apiKeys: ['sk-right'] });
    const auth = await failure(
      createOpenAIProvider({ apiKey: 'sk-wrong', baseURL }).chatModel('m').doGenerate(request, call),
    );
    expect(auth).toMatchObject({ kind: 'authentication', status: 401, retryable: false });
    simulator.configure({ apiKeys: null });
    const invalid = await failure(
      provider()
        .chatModel('m')
        .doGenerate({ ...request, messages: [] }, call),
    );
    expect(invalid).toMatchObject({ kind: 'invalid_request', status: 400, retryable: false });
  });

  it('times out a hanging call, and stops a silent stream with the idle limit', async () => {
    simulator.setFaults([{ fault: 'hang', count: 1 }]);
    const started = Date.now();
    const timeout = await failure(provider().chatModel('m').doGenerate(request, { timeoutMs: 300 }));
    expect(timeout).toMatchObject({ kind: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(3_000);

    simulator.configure({ chunkDelayMs: 400 });
    const idle = await failure(
      provider().chatModel('m').doGenerate(request, { timeoutMs: 10_000, idleTimeoutMs: 150 }),
    );
    expect(idle.kind).toBe('timeout');
    expect(idle.message).toContain('silent for 150 ms');
    simulator.configure({ chunkDelayMs: 0 });
  });

  it('rejects with canceled when the caller aborts', async () => {
    simulator.setFaults([{ fault: 'hang', count: 1 }]);
    const controller = new AbortController();
    const pending = provider().chatModel('m').doGenerate(request, { timeoutMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect(await failure(pending)).toMatchObject({ kind: 'canceled', retryable: false });
  });
});

describe('OpenAIEmbeddingModel', () => {
  it('embeds in input order with real token counts', async () => {
    const inputs = ['alpha', 'beta gamma', 'delta'];
    const model = provider().embeddingModel?.('text-embedding-3-small');
    const answer = await model?.doEmbed(inputs, { dimensions: 8 }, call);
    expect(answer?.embeddings).toEqual(inputs.map((input) => simulatedEmbedding('text-embedding-3-small', input, 8)));
    expect(answer?.promptTokens).toBeGreaterThanOrEqual(inputs.length);
  });

  it('maps errors like chat does', async () => {
    simulator.setFaults([{ fault: '429', retry_after_ms: 50, count: 1 }]);
    const model = new OpenAIEmbeddingModel({
      provider: 'local',
      modelId: 'e',
      client: new OpenAI({ apiKey: 'k', baseURL, maxRetries: 0 }),
    });
    expect(await failure(model.doEmbed(['x'], {}, call))).toMatchObject({
      provider: 'local',
      kind: 'rate_limit',
      retryAfterMs: 50,
    });
  });
});
