import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../jobs/chat-request-schema.js';
import type { ChatCompletionResult } from './chat-completion.js';
import { ProviderError } from './provider-error.js';
import { checkStructuredOutput } from './structured-output.js';

const schemaRequest: ChatRequest = {
  model: 'openai/m',
  messages: [{ role: 'user', content: 'json please' }],
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
};

const answer = (content: string | null, finishReason: 'stop' | 'length' = 'stop'): ChatCompletionResult => ({
  id: 'c',
  object: 'chat.completion',
  created: 0,
  model: 'openai/m',
  provider: 'openai',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

function failure(request: ChatRequest, result: ChatCompletionResult): ProviderError | undefined {
  try {
    checkStructuredOutput(request, result);
    return undefined;
  } catch (error) {
    return error as ProviderError;
  }
}

describe('checkStructuredOutput', () => {
  it('passes JSON that matches the schema and plain text requests', () => {
    expect(failure(schemaRequest, answer('{"name":"Ada","age":36}'))).toBeUndefined();
    expect(failure({ ...schemaRequest, response_format: undefined }, answer('not json'))).toBeUndefined();
    expect(failure({ ...schemaRequest, response_format: { type: 'json_object' } }, answer('{"a":1}'))).toBeUndefined();
  });

  it('fails, not retryable, on JSON that breaks the schema, naming where', () => {
    const error = failure(schemaRequest, answer('{"name":"Ada","age":"old"}'));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'provider_error', retryable: false });
    expect(error?.message).toBe('the answer does not match the schema "person": /age must be integer');
    expect(failure(schemaRequest, answer('{"name":"Ada"}'))?.message).toContain("must have required property 'age'");
  });

  it('fails on text that is not JSON, and says when max_tokens cut it off', () => {
    expect(failure({ ...schemaRequest, response_format: { type: 'json_object' } }, answer('hello'))?.message).toBe(
      'the answer is not valid JSON',
    );
    expect(failure(schemaRequest, answer('{"name":"Ad', 'length'))?.message).toBe(
      'the answer is not valid JSON (the answer was cut off by max_tokens)',
    );
  });
});
