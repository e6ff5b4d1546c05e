import type { ValidateFunction } from 'ajv';
import type { ChatRequest } from '../jobs/chat-request-schema.js';
import type { ChatCompletionResult } from './chat-completion.js';
import { compileJsonSchema, jsonSchemaProblem, SchemaWorkTimeout, validateBounded } from './json-schema-validator.js';
import { ProviderError } from './provider-error.js';

/**
 * Checks that a structured-output answer is what the request asked for: JSON for `json_object`,
 * JSON valid against the schema for `json_schema`. Throws a non-retryable ProviderError otherwise.
 */
export function checkStructuredOutput(request: ChatRequest, result: ChatCompletionResult): void {
  const format = request.response_format;
  if (format === undefined || format.type === 'text') return;
  const choice = result.choices[0];
  if (choice === undefined || choice.message.tool_calls?.length) return;
  const fail = (message: string) => {
    throw new ProviderError({ provider: result.provider, kind: 'provider_error', retryable: false, message });
  };
  const truncated = choice.finish_reason === 'length' ? ' (the answer was cut off by max_tokens)' : '';
  let value: unknown;
  try {
    value = JSON.parse(choice.message.content ?? '');
  } catch {
    return fail(`the answer is not valid JSON${truncated}`);
  }
  if (format.type !== 'json_schema' || format.json_schema.schema === undefined) return;
  let validate: ValidateFunction;
  try {
    validate = compileJsonSchema(format.json_schema.schema);
  } catch (error) {
    return fail(`response_format.json_schema.schema cannot be compiled: ${(error as Error).message}`);
  }
  let valid: boolean;
  try {
    valid = validateBounded(validate, value);
  } catch (error) {
    if (error instanceof SchemaWorkTimeout)
      return fail(`the answer could not be checked against the schema: ${error.message}`);
    throw error;
  }
  if (!valid) {
    const first = validate.errors?.[0];
    const where = first?.instancePath ? first.instancePath : '(root)';
    fail(
      `the answer does not match the schema "${format.json_schema.name}": ${where} ${first?.message ?? 'is invalid'}${truncated}`,
    );
  }
}

/**
 * Before a call: a `json_schema` the worker cannot compile (within `SCHEMA_WORK_LIMIT_MS`) fails
 * the job as a bad request now, before a provider is paid for an answer it could not check.
 */
export function prepareStructuredOutput(request: ChatRequest, provider: string): void {
  const format = request.response_format;
  if (format?.type !== 'json_schema' || format.json_schema.schema === undefined) return;
  const problem = jsonSchemaProblem(format.json_schema.schema);
  if (problem === null) return;
  throw new ProviderError({
    provider,
    kind: 'invalid_request',
    retryable: false,
    message: `response_format.json_schema.schema cannot be used: ${problem}`,
  });
}
