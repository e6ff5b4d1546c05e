import { Ajv, type ValidateFunction } from 'ajv';
import type { ChatRequest } from '../jobs/chat-request-schema.js';
import type { ChatCompletionResult } from './chat-completion.js';
import { ProviderError } from './provider-error.js';

const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
// Compiling is far dearer than validating; the same schemas come back job after job.
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 500;

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, validate);
  }
  return validate;
}

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
    validate = validatorFor(format.json_schema.schema);
  } catch (error) {
    return fail(`response_format.json_schema.schema cannot be compiled: ${(error as Error).message}`);
  }
  if (!validate(value)) {
    const first = validate.errors?.[0];
    const where = first?.instancePath ? first.instancePath : '(root)';
    fail(
      `the answer does not match the schema "${format.json_schema.name}": ${where} ${first?.message ?? 'is invalid'}${truncated}`,
    );
  }
}
