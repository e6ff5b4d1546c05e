import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from './server.js';

let simulator: Simulator;
let url: string;

beforeAll(async () => {
  simulator = createSimulator();
  ({ url } = await simulator.listen(0));
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

/** A raw POST, for what the SDK would never send. */
async function post(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2026-10-21', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

function errorBody(type: string, message: string | RegExp) {
  return {
    type: 'error',
    error: { type, message: message instanceof RegExp ? expect.stringMatching(message) : message },
  };
}

describe('POST /v1/messages checks headers and fields like the API', () => {
  it('combines consecutive messages of one role, as the API does', async () => {
    const split = await post({
      ...plain,
      messages: [
        { role: 'user', content: 'Summarise the plot of Hamlet' },
        { role: 'user', content: [{ type: 'text', text: 'in one sentence.' }] },
      ],
    });
    expect(split.status).toBe(200);
  });

  it.each([
    ['no key', {}, { 'x-api-key': '' }, 401, errorBody('authentication_error', 'x-api-key header is required')],
    [
      'no anthropic-version',
      {},
      { 'anthropic-version': '' },
      400,
      errorBody('invalid_request_error', 'anthropic-version: header is required'),
    ],
    [
      'an unknown version',
      {},
      { 'anthropic-version': '2024-01-01' },
      400,
      errorBody('invalid_request_error', /is not a valid version/),
    ],
    [
      'no max_tokens',
      { max_tokens: undefined },
      {},
      400,
      errorBody('invalid_request_error', 'max_tokens: Field required'),
    ],
    ['no model', { model: undefined }, {}, 400, errorBody('invalid_request_error', 'model: Field required')],
    ['empty messages', { messages: [] }, {}, 400, errorBody('invalid_request_error', /^messages: /)],
    [
      'temperature on 2026-10-21',
      { temperature: 0.5 },
      {},
      400,
      errorBody('invalid_request_error', 'temperature: Extra inputs are not permitted'),
    ],
    [
      'an unknown field',
      { seed: 1 },
      {},
      400,
      errorBody('invalid_request_error', 'seed: Extra inputs are not permitted'),
    ],
    [
      'an assistant first',
      { messages: [{ role: 'assistant', content: 'Hi' }] },
      {},
      400,
      errorBody('invalid_request_error', 'messages: first message must use the "user" role'),
    ],
    [
      'a system role message',
      { messages: [{ role: 'system', content: 'x' }] },
      {},
      400,
      errorBody('invalid_request_error', /^messages\.0\.role: /),
    ],
    [
      'an empty text block',
      { messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] },
      {},
      400,
      errorBody('invalid_request_error', 'messages: text content blocks must be non-empty'),
    ],
    [
      'a tiff image',
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'image', source: { type: 'base64', media_type: 'image/tiff', data: 'AAAA' } }],
          },
        ],
      },
      {},
      400,
      errorBody('invalid_request_error', /^messages\.0\.content\.0\.source\.media_type: /),
    ],
    [
      'an unanswered tool_use',
      {
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] },
          { role: 'user', content: 'b' },
        ],
      },
      {},
      400,
      errorBody(
        'invalid_request_error',
        /tool_use` ids were found without `tool_result` blocks immediately after: toolu_1/,
      ),
    ],
    [
      'an unknown tool_result id',
      { messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: 'x' }] }] },
      {},
      400,
      errorBody('invalid_request_error', /unexpected `tool_use_id` found in `tool_result` blocks: toolu_9/),
    ],
    [
      'a tool_choice naming no tool',
      { tools: [weatherTool], tool_choice: { type: 'tool', name: 'nope' } },
      {},
      400,
      errorBody('invalid_request_error', /tool_choice\.name/),
    ],
  ] as const)('refuses %s', async (_name, change, headers, status, body) => {
    const answer = await post({ ...plain, ...change }, headers);
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject(body);
    expect(answer.headers.get('request-id')).toMatch(/^req_/);
  });

  it('accepts temperature on anthropic-version 2023-06-01, and a key in x-api-key or as a Bearer token', async () => {
    expect((await post({ ...plain, temperature: 0.5 }, { 'anthropic-version': '2023-06-01' })).status).toBe(200);
    simulator.configure({ apiKeys: ['sk-ant-right'] });
    expect((await post(plain, { 'x-api-key': 'sk-ant-right' })).status).toBe(200);
    expect((await post(plain, { 'x-api-key': '', authorization: 'Bearer sk-ant-right' })).status).toBe(200);
    const wrong = await post(plain, { 'x-api-key': 'sk-ant-wrong' });
    expect(wrong).toMatchObject({ status: 401, body: errorBody('authentication_error', 'invalid x-api-key') });
  });
});
