import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../jobs/chat-request-schema.js';
import type { ChatCompletionResult } from './chat-completion.js';
import { ProviderError } from './provider-error.js';
import { jsonSchemaProblem, SCHEMA_WORK_LIMIT_MS, schemaPatternProblem } from './json-schema-validator.js';
import { checkStructuredOutput, prepareStructuredOutput } from './structured-output.js';

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

describe('hostile schemas', () => {
  const withSchema = (schema: Record<string, unknown>): ChatRequest => ({
    ...schemaRequest,
    response_format: { type: 'json_schema', json_schema: { name: 'hostile', schema } },
  });

  it('runs patterns in linear time: the classic ReDoS answers at once', () => {
    const request = withSchema({ type: 'object', properties: { id: { type: 'string', pattern: '^(a+)+$' } } });
    const started = performance.now();
    const error = failure(request, answer(JSON.stringify({ id: `${'a'.repeat(100_000)}!` })));
    expect(error?.message).toMatch(/does not match the schema "hostile": \/id must match pattern/);
    // A backtracking engine would still be running: 2^100000 steps.
    expect(performance.now() - started).toBeLessThan(SCHEMA_WORK_LIMIT_MS);
  });

  it('refuses patterns that need backtracking (lookaround, backreferences)', () => {
    expect(jsonSchemaProblem({ type: 'string', pattern: '(?=a)a' })).toMatch(/Perl syntax/);
    expect(jsonSchemaProblem({ type: 'string', pattern: '(a)\\1' })).not.toBeNull();
    expect(jsonSchemaProblem({ type: 'string', pattern: '^[a-z]+\\d{2,3}$' })).toBeNull();
  });

  it('interrupts a validation that would take exponential time, and fails the job clearly', () => {
    // Two branches that both recurse: checking a list nested 40 deep with a bad leaf takes 2^40 steps.
    const schema = {
      $defs: {
        node: {
          anyOf: [
            { type: 'array', items: { $ref: '#/$defs/node' }, minItems: 1 },
            { type: 'array', items: { $ref: '#/$defs/node' }, maxItems: 5 },
          ],
        },
      },
      type: 'object',
      properties: { tree: { $ref: '#/$defs/node' } },
    };
    const deep = `${'['.repeat(40)}"leaf"${']'.repeat(40)}`;
    const started = performance.now();
    const error = failure(withSchema(schema), answer(`{"tree":${deep}}`));
    expect(error?.retryable).toBe(false);
    expect(error?.message).toBe(
      `the answer could not be checked against the schema: checking against this schema took longer than ${SCHEMA_WORK_LIMIT_MS} ms`,
    );
    expect(performance.now() - started).toBeLessThan(SCHEMA_WORK_LIMIT_MS * 4);
  });

  it('compiles a 300-property schema, and refuses one too large to compile within the bound', () => {
    const schemaOf = (count: number) => ({
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: count }, (_, index) => [`field_${index}`, { type: 'string' }]),
      ),
    });
    expect(jsonSchemaProblem(schemaOf(300))).toBeNull();
    const started = performance.now();
    expect(jsonSchemaProblem(schemaOf(20_000))).toBe(`compiling it took longer than ${SCHEMA_WORK_LIMIT_MS} ms`);
    expect(performance.now() - started).toBeLessThan(SCHEMA_WORK_LIMIT_MS * 4);
  });

  it('fails the job before the call when the schema cannot be compiled', () => {
    const request = withSchema({ type: 'string', pattern: '(?=a)a' });
    expect(() => prepareStructuredOutput(request, 'openai')).toThrow(/json_schema.schema cannot be used/);
    expect(() => prepareStructuredOutput(schemaRequest, 'openai')).not.toThrow();
  });

  it('refuses a backtracking pattern at submit without compiling the schema', () => {
    expect(schemaPatternProblem({ properties: { a: { pattern: '(?<=x)y' } } })).toMatch(/cannot run in linear time/);
    expect(schemaPatternProblem({ patternProperties: { '^(?!x)': {} } })).toMatch(/cannot run in linear time/);
    expect(schemaPatternProblem({ properties: { a: { pattern: '^[a-z]+$' } } })).toBeNull();
  });
});
