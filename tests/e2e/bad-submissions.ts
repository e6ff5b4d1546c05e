/** Bodies `POST /v1/jobs` must refuse, with the status and the words the caller should see. */
export interface BadSubmission {
  name: string;
  body: string;
  contentType?: string;
  status: number;
  message: string;
}

const chat = (request: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'chat',
    request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...request },
    ...extra,
  });
const embedding = (request: Record<string, unknown>) =>
  JSON.stringify({ type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: 'x', ...request } });

export const badSubmissions: BadSubmission[] = [
  { name: 'invalid JSON', body: '{"type":', status: 400, message: 'request body is not valid JSON' },
  { name: 'a JSON array', body: '[]', status: 400, message: 'the body must be a JSON object' },
  { name: 'a JSON string', body: '"chat"', status: 400, message: 'the body must be a JSON object' },
  { name: 'no type', body: '{"request":{}}', status: 400, message: 'type: is required: "chat" or "embedding"' },
  {
    name: 'an unknown type',
    body: '{"type":"image","request":{}}',
    status: 400,
    message: 'type: must be "chat" or "embedding" (got "image")',
  },
  {
    name: 'no request',
    body: '{"type":"chat"}',
    status: 400,
    message: 'request: Invalid input: expected object, received undefined',
  },
  {
    name: 'an unknown provider',
    body: chat({ model: 'acme/gpt' }),
    status: 400,
    message: 'request.model: unknown provider "acme"',
  },
  {
    name: 'a model without provider',
    body: chat({ model: 'gpt-4o' }),
    status: 400,
    message: 'request.model: must be "<provider>/<model>" or a configured alias (got "gpt-4o")',
  },
  {
    name: 'a malformed model id',
    body: chat({ model: 'openai/gpt 4o' }),
    status: 400,
    message: 'request.model: model id "gpt 4o" is malformed',
  },
  {
    name: 'a numeric model',
    body: chat({ model: 42 }),
    status: 400,
    message: 'request.model: Invalid input: expected string, received number',
  },
  {
    name: 'empty messages',
    body: chat({ messages: [] }),
    status: 400,
    message: 'request.messages: must contain at least one message',
  },
  {
    name: 'messages as a string',
    body: chat({ messages: 'hi' }),
    status: 400,
    message: 'request.messages: Invalid input: expected array, received string',
  },
  {
    name: 'an unknown role',
    body: chat({ messages: [{ role: 'bot', content: 'x' }] }),
    status: 400,
    message: 'request.messages[0].role: role must be one of system, developer, user, assistant, tool',
  },
  {
    name: 'content of the wrong type',
    body: chat({ messages: [{ role: 'user', content: 5 }] }),
    status: 400,
    message: 'request.messages[0].content: must be a string or a non-empty array of text and image_url parts',
  },
  {
    name: 'temperature as a string',
    body: chat({ temperature: 'warm' }),
    status: 400,
    message: 'request.temperature: Invalid input: expected number, received string',
  },
  {
    name: 'temperature out of range',
    body: chat({ temperature: 2.5 }),
    status: 400,
    message: 'request.temperature: Too big: expected number to be <=2',
  },
  {
    name: 'negative max_tokens',
    body: chat({ max_tokens: -1 }),
    status: 400,
    message: 'request.max_tokens: Too small: expected number to be >0',
  },
  {
    name: 'fractional max_tokens',
    body: chat({ max_tokens: 1.5 }),
    status: 400,
    message: 'request.max_tokens: Invalid input: expected int, received number',
  },
  {
    name: 'stream: true',
    body: chat({ stream: true }),
    status: 400,
    message: 'request.stream: is not supported on jobs',
  },
  {
    name: 'an unknown request field',
    body: chat({ best_of: 2 }),
    status: 400,
    message: 'request: unknown field "best_of"',
  },
  {
    name: 'an unknown job field',
    body: chat({}, { urgency: 'high' }),
    status: 400,
    message: 'unknown field "urgency"',
  },
  {
    name: 'a priority by an unknown name',
    body: chat({}, { priority: 'high' }),
    status: 400,
    message: 'priority: must be "interactive", "default", "bulk" or an integer from 0 (first) to 9',
  },
  {
    name: 'an image over http',
    body: chat({
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://a/b.png' } }] }],
    }),
    status: 400,
    message: 'request.messages[0].content[0].image_url.url: must be a data:image/... URL or an https:// URL',
  },
  {
    name: 'tool_choice without tools',
    body: chat({ tool_choice: 'required' }),
    status: 400,
    message: 'request.tool_choice: tool_choice needs tools',
  },
  {
    name: 'an unknown response_format',
    body: chat({ response_format: { type: 'yaml' } }),
    status: 400,
    message: 'request.response_format.type: type must be "text", "json_object" or "json_schema"',
  },
  {
    name: 'empty embedding input',
    body: embedding({ input: [] }),
    status: 400,
    message: 'request.input: must contain at least one string',
  },
  {
    name: 'an empty embedding string',
    body: embedding({ input: '' }),
    status: 400,
    message: 'request.input: must not be empty',
  },
  {
    name: 'a fallback with an unknown provider',
    body: chat({}, { fallbacks: ['nope/m'] }),
    status: 400,
    message: 'fallbacks[0]: unknown provider "nope"',
  },
  {
    name: 'a webhook that is not http',
    body: chat({}, { webhook: { url: 'file:///etc/passwd' } }),
    status: 400,
    message: 'webhook.url: must be an absolute http(s) URL',
  },
  {
    name: 'metadata that is not strings',
    body: chat({}, { metadata: { n: 1 } }),
    status: 400,
    message: 'metadata.n: Invalid input: expected string, received number',
  },
  {
    name: 'a body over the limit',
    body: chat({ messages: [{ role: 'user', content: 'x'.repeat(70_000) }] }),
    status: 413,
    message: 'request body is larger than the limit of 65536 bytes',
  },
  {
    name: 'a form body',
    body: 'type=chat',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    message: 'send the job as JSON with "Content-Type: application/json"',
  },
];
