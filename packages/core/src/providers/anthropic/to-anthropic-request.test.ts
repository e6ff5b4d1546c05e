import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../jobs/chat-request-schema.js';
import { anthropicChatRequestProblems } from './anthropic-request-problems.js';
import { JSON_OBJECT_TOOL_NAME, toAnthropicRequest } from './to-anthropic-request.js';

const settings = { modelId: 'claude-haiku-4-5', defaultMaxTokens: 4096 };
const user = (content: string) => ({ role: 'user' as const, content });
const translate = (request: Omit<ChatRequest, 'model'>) => toAnthropicRequest({ model: 'x', ...request }, settings);
const problems = (request: Omit<ChatRequest, 'model'>) => anthropicChatRequestProblems({ model: 'x', ...request });

const toolCall = (id: string, args = '{"city":"Oslo"}') => ({
  id,
  type: 'function' as const,
  function: { name: 'get_weather', arguments: args },
});
const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'get_weather', strict: true } }];

describe('toAnthropicRequest', () => {
  it('moves leading system and developer messages to system and sends the defaults Anthropic needs', () => {
    const { params, problems: found } = translate({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'No jokes.' }] },
        user('Hi'),
      ],
      stop: 'END',
      user: 'user-42',
    });
    expect(found).toEqual([]);
    expect(params).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 4096,
      stream: true,
      system: [
        { type: 'text', text: 'Be brief.' },
        { type: 'text', text: 'No jokes.' },
      ],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      stop_sequences: ['END'],
      metadata: { user_id: 'user-42' },
    });
    expect(translate({ messages: [user('Hi')], max_completion_tokens: 9 }).params.max_tokens).toBe(9);
  });

  it('merges consecutive turns and turns tool messages into tool_result blocks of one user turn', () => {
    const { params, problems: found } = translate({
      tools,
      messages: [
        user('Weather in Oslo and Bergen?'),
        { role: 'assistant', content: 'Checking.', tool_calls: [toolCall('call_1'), toolCall('call_2', '')] },
        { role: 'tool', tool_call_id: 'call_1', content: '3 degrees' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '5 degrees' }] },
        user('And tomorrow?'),
      ],
    });
    expect(found).toEqual([]);
    expect(params.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo and Bergen?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Oslo' } },
          { type: 'tool_use', id: 'call_2', name: 'get_weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '3 degrees' },
          { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: '5 degrees' }] },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
    expect(params.tools).toEqual([{ name: 'get_weather', input_schema: { type: 'object' }, strict: true }]);
  });

  it('translates images to base64 and url sources', () => {
    const { params } = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          ],
        },
      ],
    });
    expect(params.messages[0]?.content).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
    ]);
  });

  it.each([
    ['auto', undefined, { type: 'auto' }],
    ['required', false, { type: 'any', disable_parallel_tool_use: true }],
    ['none', false, { type: 'none' }],
    [{ type: 'function', function: { name: 'get_weather' } }, undefined, { type: 'tool', name: 'get_weather' }],
    [undefined, false, { type: 'auto', disable_parallel_tool_use: true }],
  ] as const)('maps tool_choice %j with parallel_tool_calls %s', (choice, parallel, expected) => {
    const { params } = translate({
      messages: [user('Hi')],
      tools,
      ...(choice !== undefined ? { tool_choice: choice } : {}),
      ...(parallel !== undefined ? { parallel_tool_calls: parallel } : {}),
    });
    expect(params.tool_choice).toEqual(expected);
  });

  it('sends json_schema as output_config and json_object as a forced tool', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    const structured = translate({
      messages: [user('x')],
      response_format: { type: 'json_schema', json_schema: { name: 'thing', schema, strict: true } },
    });
    expect(structured.params.output_config).toEqual({ format: { type: 'json_schema', schema } });
    const json = translate({ messages: [user('x')], response_format: { type: 'json_object' } });
    expect(json.jsonObjectTool).toBe(JSON_OBJECT_TOOL_NAME);
    expect(json.params.tool_choice).toEqual({ type: 'tool', name: JSON_OBJECT_TOOL_NAME });
    expect(json.params.tools).toEqual([
      expect.objectContaining({ name: JSON_OBJECT_TOOL_NAME, input_schema: { type: 'object' } }),
    ]);
  });
});

describe('anthropicChatRequestProblems', () => {
  it('accepts what translates', () => {
    expect(problems({ messages: [user('Hi')], tools, tool_choice: 'auto', stop: ['a', 'b'], max_tokens: 5 })).toEqual(
      [],
    );
  });

  const cases: Array<[string, Omit<ChatRequest, 'model'>, string[]]> = [
    ['sampling fields', { messages: [user('Hi')], temperature: 0.2, top_p: 0.9 }, ['temperature', 'top_p']],
    [
      'seed and penalties',
      { messages: [user('Hi')], seed: 1, presence_penalty: 0, frequency_penalty: 0 },
      ['seed', 'presence_penalty', 'frequency_penalty'],
    ],
    [
      'a system message mid-conversation',
      { messages: [user('Hi'), { role: 'system', content: 'Now be formal.' }] },
      ['messages[1]'],
    ],
    ['names', { messages: [{ role: 'user', content: 'Hi', name: 'ann' }] }, ['messages[0].name']],
    ['an assistant first', { messages: [{ role: 'assistant', content: 'Hello' }, user('Hi')] }, ['messages[0]']],
    ['no user or assistant message', { messages: [{ role: 'system', content: 'Be brief.' }] }, ['messages']],
    ['an empty message', { messages: [user('')] }, ['messages[0].content']],
    [
      'an unsupported image',
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml;base64,PHN2Zz4=', detail: 'low' } }],
          },
        ],
      },
      ['messages[0].content[0].image_url.detail', 'messages[0].content[0].image_url.url'],
    ],
    [
      'a non-base64 data URL',
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png,raw' } }] }] },
      ['messages[0].content[0].image_url.url'],
    ],
    [
      'unparseable tool arguments',
      {
        messages: [
          user('Hi'),
          { role: 'assistant', tool_calls: [toolCall('call_1', '{oops')] },
          { role: 'tool', tool_call_id: 'call_1', content: 'x' },
        ],
      },
      ['messages[1].tool_calls[0].function.arguments'],
    ],
    [
      'array tool arguments',
      {
        messages: [
          user('Hi'),
          { role: 'assistant', tool_calls: [toolCall('call_1', '[1]')] },
          { role: 'tool', tool_call_id: 'call_1', content: 'x' },
        ],
      },
      ['messages[1].tool_calls[0].function.arguments'],
    ],
    [
      'an unanswered tool call',
      { messages: [user('Hi'), { role: 'assistant', tool_calls: [toolCall('call_1')] }, user('Well?')] },
      ['messages[1].tool_calls[0]'],
    ],
    [
      'a tool message answering nothing',
      { messages: [user('Hi'), { role: 'tool', tool_call_id: 'call_9', content: 'x' }] },
      ['messages[1].tool_call_id'],
    ],
    [
      'json_object with tools',
      { messages: [user('Hi')], tools, response_format: { type: 'json_object' } },
      ['response_format'],
    ],
    [
      'json_schema without schema, with a description',
      {
        messages: [user('Hi')],
        response_format: { type: 'json_schema', json_schema: { name: 'x', description: 'd' } },
      },
      ['response_format.json_schema.description', 'response_format.json_schema.schema'],
    ],
    [
      'tool parameters that are no object',
      {
        messages: [user('Hi')],
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'string' } } }],
      },
      ['tools[0].function.parameters.type'],
    ],
  ];

  it.each(cases)('lists %s', (_name, request, fields) => {
    const found = problems(request);
    expect(found.map((problem) => problem.field)).toEqual(fields);
    for (const problem of found) expect(problem.message).not.toBe('');
  });
});
