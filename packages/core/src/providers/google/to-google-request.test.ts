import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../jobs/chat-request-schema.js';
import { googleChatRequestProblems } from './google-request-problems.js';
import { SKIP_THOUGHT_SIGNATURE } from './to-google-contents.js';
import { toGoogleRequest } from './to-google-request.js';

const base: ChatRequest = { model: 'google/gemini-2.5-flash', messages: [{ role: 'user', content: 'Hi' }] };
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object' } },
};

describe('toGoogleRequest', () => {
  it('maps sampling fields onto the generation config', () => {
    const { request, problems } = toGoogleRequest({
      ...base,
      temperature: 0.5,
      top_p: 0.9,
      max_completion_tokens: 64,
      stop: 'END',
      seed: 7,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      parallel_tool_calls: true,
    });
    expect(problems).toEqual([]);
    expect(request.config).toEqual({
      temperature: 0.5,
      topP: 0.9,
      maxOutputTokens: 64,
      stopSequences: ['END'],
      seed: 7,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
    });
  });

  it('turns tool calls into functionCall parts and merges consecutive tool results into one user turn', () => {
    const { request, problems } = toGoogleRequest({
      ...base,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Oslo and Bergen?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
            { id: 'b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Bergen"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'a', content: '{"temp":3}' },
        { role: 'tool', tool_call_id: 'b', content: [{ type: 'text', text: 'rainy' }] },
        { role: 'user', content: 'Thanks' },
      ],
    });
    expect(problems).toEqual([]);
    expect(request.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Oslo and Bergen?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Checking.' },
          { functionCall: { name: 'get_weather', args: { city: 'Oslo' } }, thoughtSignature: SKIP_THOUGHT_SIGNATURE },
          { functionCall: { name: 'get_weather', args: { city: 'Bergen' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp: 3 } } },
          { functionResponse: { name: 'get_weather', response: { content: 'rainy' } } },
        ],
      },
      { role: 'user', parts: [{ text: 'Thanks' }] },
    ]);
    expect(request.config.tools).toEqual([
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Weather now', parametersJsonSchema: { type: 'object' } },
        ],
      },
    ]);
  });

  it.each([
    ['auto', { mode: 'AUTO' }],
    ['none', { mode: 'NONE' }],
    ['required', { mode: 'ANY' }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
    ],
  ] as const)('maps tool_choice %j to %j', (choice, expected) => {
    const { request } = toGoogleRequest({ ...base, tools: [weatherTool], tool_choice: choice });
    expect(request.config.toolConfig).toEqual({ functionCallingConfig: expected });
  });

  it('maps json_object and json_schema to the native JSON output, name and description into the schema', () => {
    expect(toGoogleRequest({ ...base, response_format: { type: 'json_object' } }).request.config).toEqual({
      responseMimeType: 'application/json',
    });
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const { request } = toGoogleRequest({
      ...base,
      response_format: { type: 'json_schema', json_schema: { name: 'thing', description: 'A thing', schema } },
    });
    expect(request.config).toEqual({
      responseMimeType: 'application/json',
      responseJsonSchema: { title: 'thing', description: 'A thing', ...schema },
    });
  });
});

describe('googleChatRequestProblems', () => {
  it('finds none in a plain request', () => {
    expect(googleChatRequestProblems(base)).toEqual([]);
  });

  it.each<[string, Partial<ChatRequest>, string]>([
    ['user', { user: 'u-1' }, 'user'],
    ['parallel_tool_calls false', { parallel_tool_calls: false }, 'parallel_tool_calls'],
    ['a message name', { messages: [{ role: 'user', content: 'Hi', name: 'ann' }] }, 'messages[0].name'],
    [
      'a system message after the conversation started',
      {
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'system', content: 'Be brief' },
        ],
      },
      'messages[1]',
    ],
    ['system messages alone', { messages: [{ role: 'system', content: 'Be brief' }] }, 'messages'],
    ['an empty user message', { messages: [{ role: 'user', content: '' }] }, 'messages[0]'],
    [
      'unparseable tool-call arguments',
      {
        messages: [
          { role: 'user', content: 'Hi' },
          {
            role: 'assistant',
            tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{oops' } }],
          },
        ],
      },
      'messages[1].tool_calls[0].function.arguments',
    ],
    [
      'a tool result for an unknown call',
      {
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'tool', tool_call_id: 'nope', content: 'x' },
        ],
      },
      'messages[1].tool_call_id',
    ],
    [
      'an image data URL that is not base64',
      {
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml,<svg/>' } }] }],
      },
      'messages[0].content[0].image_url.url',
    ],
    [
      'an https image URL without an image extension',
      {
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/picture' } }] },
        ],
      },
      'messages[0].content[0].image_url.url',
    ],
    [
      'image detail other than auto',
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'high' } }],
          },
        ],
      },
      'messages[0].content[0].image_url.detail',
    ],
    [
      'strict tools with tool_choice auto',
      { tools: [{ type: 'function', function: { name: 'f', strict: true } }] },
      'tools[0].function.strict',
    ],
    [
      'a named tool_choice that names no tool',
      { tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'other' } } },
      'tool_choice.function.name',
    ],
  ])('reports %s', (_name, change, field) => {
    const problems = googleChatRequestProblems({ ...base, ...change });
    expect(problems.map((problem) => problem.field)).toEqual([field]);
    expect(problems[0]?.message).toEqual(expect.any(String));
  });

  it('allows strict tools when a call is required', () => {
    const tools = [{ type: 'function' as const, function: { name: 'f', strict: true } }];
    expect(googleChatRequestProblems({ ...base, tools, tool_choice: 'required' })).toEqual([]);
  });
});
