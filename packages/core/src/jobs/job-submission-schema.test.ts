import { describe, expect, it } from 'vitest';
import { createModelCatalog } from '../catalog/provider-setup.js';
import { llmqConfigSchema } from '../config/llmq-config-schema.js';
import { formatValidationError } from './format-validation-error.js';
import { createJobSubmissionSchema, DEFAULT_RANK, jobRank } from './job-submission-schema.js';

const catalog = createModelCatalog(
  llmqConfigSchema.parse({
    providers: {
      local: { type: 'openai-compatible', base_url: 'http://127.0.0.1:8000/v1' },
      chatonly: { type: 'openai-compatible', base_url: 'http://127.0.0.1:8001/v1', embeddings: false },
    },
    aliases: { fast: ['openai/gpt-4o-mini', 'local/llama3'] },
  }),
);
const schema = createJobSubmissionSchema(catalog);

const chat = (request: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...request },
  ...extra,
});

function problem(body: unknown): string {
  const parsed = schema.safeParse(body);
  if (parsed.success) throw new Error('expected the body to be refused');
  return formatValidationError(parsed.error);
}

describe('job submission schema', () => {
  it.each([
    ['a plain chat job', chat({})],
    ['an alias', chat({ model: 'fast' })],
    ['a configured provider with a slashed model id', chat({ model: 'local/meta-llama/Llama-3.1-8B-Instruct' })],
    [
      'every chat feature',
      chat({
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'developer', content: [{ type: 'text', text: 'really' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"animal":"cat"}' },
        ],
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
        tool_choice: { type: 'function', function: { name: 'lookup' } },
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
        temperature: 0,
        top_p: 1,
        max_tokens: 100,
        stop: ['\n\n'],
        seed: 7,
      }),
    ],
    ['an embedding job', { type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: ['a', 'b'] } }],
    [
      'metadata, webhook and fallbacks',
      chat({}, { metadata: { doc: '42' }, webhook: { url: 'https://example.com/h' }, fallbacks: ['fast'] }),
    ],
  ])('accepts %s', (_name, body) => {
    const parsed = schema.safeParse(body);
    expect(parsed.success ? 'ok' : formatValidationError(parsed.error)).toBe('ok');
  });

  it.each<[string, unknown, string]>([
    ['a missing type', { request: {} }, 'type: is required: "chat" or "embedding"'],
    ['an unknown type', { type: 'image', request: {} }, 'type: must be "chat" or "embedding" (got "image")'],
    ['a body that is not an object', [1, 2], 'the body must be a JSON object'],
    ['a missing request', { type: 'chat' }, 'request:'],
    ['an unknown top-level field', chat({}, { urgency: 1 }), 'unknown field "urgency"'],
    [
      'a priority out of range',
      chat({}, { priority: 12 }),
      'priority: must be "interactive", "default", "bulk" or an integer from 0 (first) to 9',
    ],
    [
      'a priority by an unknown name',
      chat({}, { priority: 'urgent' }),
      'priority: must be "interactive", "default", "bulk" or an integer from 0 (first) to 9',
    ],
    ['an unknown request field', chat({ logit_bias: {} }), 'request: unknown field "logit_bias"'],
    [
      'a model without provider',
      chat({ model: 'gpt-4o-mini' }),
      'request.model: must be "<provider>/<model>" or a configured alias',
    ],
    [
      'an unknown provider',
      chat({ model: 'acme/x' }),
      'request.model: unknown provider "acme" (known: anthropic, chatonly, google, local, openai; aliases: fast)',
    ],
    ['a malformed model id', chat({ model: 'openai/gpt 4' }), 'request.model: model id "gpt 4" is malformed'],
    ['a non-string model', chat({ model: 4 }), 'request.model: Invalid input: expected string, received number'],
    ['empty messages', chat({ messages: [] }), 'request.messages: must contain at least one message'],
    [
      'messages not an array',
      chat({ messages: 'hi' }),
      'request.messages: Invalid input: expected array, received string',
    ],
    [
      'an unknown role',
      chat({ messages: [{ role: 'robot', content: 'x' }] }),
      'request.messages[0].role: role must be one of',
    ],
    [
      'a user message without content',
      chat({ messages: [{ role: 'user' }] }),
      'request.messages[0].content: must be a string or a non-empty array',
    ],
    [
      'an empty assistant message',
      chat({ messages: [{ role: 'assistant' }] }),
      'request.messages[0]: an assistant message needs content or tool_calls',
    ],
    [
      'a tool message without id',
      chat({ messages: [{ role: 'tool', content: 'x' }] }),
      'request.messages[0].tool_call_id',
    ],
    [
      'an image over http',
      chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/a.png' } }] }] }),
      'request.messages[0].content[0].image_url.url: must be a data:image/... URL or an https:// URL',
    ],
    ['a temperature too high', chat({ temperature: 3 }), 'request.temperature: Too big: expected number to be <=2'],
    [
      'a string temperature',
      chat({ temperature: 'hot' }),
      'request.temperature: Invalid input: expected number, received string',
    ],
    ['max_tokens of zero', chat({ max_tokens: 0 }), 'request.max_tokens: Too small: expected number to be >0'],
    [
      'both token caps',
      chat({ max_tokens: 5, max_completion_tokens: 5 }),
      'request.max_completion_tokens: set max_tokens or max_completion_tokens, not both',
    ],
    ['stream: true', chat({ stream: true }), 'request.stream: is not supported on jobs'],
    ['tool_choice without tools', chat({ tool_choice: 'auto' }), 'request.tool_choice: tool_choice needs tools'],
    [
      'a bad tool name',
      chat({ tools: [{ type: 'function', function: { name: 'has space' } }] }),
      'request.tools[0].function.name: must be 1 to 64',
    ],
    [
      'a bad response_format',
      chat({ response_format: { type: 'xml' } }),
      'request.response_format.type: type must be "text", "json_object" or "json_schema"',
    ],
    ['five stop sequences', chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), 'request.stop'],
    [
      'empty embedding input',
      { type: 'embedding', request: { model: 'openai/e', input: [] } },
      'request.input: must contain at least one string',
    ],
    [
      'an empty embedding string',
      { type: 'embedding', request: { model: 'openai/e', input: ['a', ''] } },
      'request.input[1]: must not be empty',
    ],
    [
      'token-array embedding input',
      { type: 'embedding', request: { model: 'openai/e', input: [[1, 2]] } },
      'request.input',
    ],
    [
      'embeddings on a chat-only provider',
      { type: 'embedding', request: { model: 'chatonly/m', input: 'a' } },
      'request.model: provider "chatonly" does not serve embedding jobs',
    ],
    [
      'base64 embeddings',
      { type: 'embedding', request: { model: 'openai/e', input: 'a', encoding_format: 'base64' } },
      'request.encoding_format: only "float" is supported',
    ],
    ['a non-http webhook', chat({}, { webhook: { url: 'ftp://x/y' } }), 'webhook.url: must be an absolute http(s) URL'],
    [
      'numeric metadata',
      chat({}, { metadata: { n: 1 } }),
      'metadata.n: Invalid input: expected string, received number',
    ],
    ['an unknown fallback provider', chat({}, { fallbacks: ['nope/x'] }), 'fallbacks[0]: unknown provider "nope"'],
  ])('refuses %s', (_name, body, expected) => {
    expect(problem(body)).toContain(expected);
  });
});

describe('jobRank', () => {
  it('orders interactive, default and bulk, takes 0-9 as they are, and puts deferrable work last', () => {
    expect(jobRank({ priority: 'interactive' })).toBe(2);
    expect(jobRank({})).toBe(DEFAULT_RANK);
    expect(jobRank({ priority: 'bulk' })).toBe(8);
    expect(jobRank({ priority: 0 })).toBe(0);
    expect(jobRank({ priority: 9, completion_window: '24h' })).toBe(10);
  });
});
