import { z } from 'zod';
import { formatValidationError, resolveModel, type JobSubmission, type ModelCatalog } from '@llmq/core';
import { OpenAiError } from './openai-error.js';

/** llmq's own job options, sent in the body's `llmq` field (the SDKs' `extra_body`). */
export const LLMQ_OPTION_FIELDS = [
  'fallbacks',
  'metadata',
  'attempts',
  'timeout_s',
  'deadline_s',
  'cache',
  'webhook',
  'completion_window',
  'priority',
];

/** What a chat request asks of the answer rather than of the job. */
export interface ChatAnswerOptions {
  stream: boolean;
  includeUsage: boolean;
}

const chatAnswerSchema = z.object({
  stream: z.boolean({ error: 'must be true or false' }).nullish(),
  stream_options: z.strictObject({ include_usage: z.boolean({ error: 'must be true or false' }).optional() }).nullish(),
});

const embeddingAnswerSchema = z.object({
  encoding_format: z.enum(['float', 'base64'], { error: 'must be "float" or "base64"' }).optional(),
});

/** `a.b[0]` from a zod path. */
function paramOf(path: ReadonlyArray<PropertyKey>): string | null {
  if (path.length === 0) return null;
  return path.reduce<string>(
    (joined, part) =>
      typeof part === 'number' ? `${joined}[${part}]` : joined === '' ? String(part) : `${joined}.${String(part)}`,
    '',
  );
}

function badRequest(error: z.ZodError, prefix: string): OpenAiError {
  const [first] = error.issues;
  return new OpenAiError(400, 'invalid_request_error', formatValidationError(error), {
    param: first ? paramOf([...(prefix ? [prefix] : []), ...first.path]) : null,
    code: 'invalid_value',
  });
}

/** The body as an object, and its `llmq` options; a 400 when either is not an object. */
function splitBody(body: unknown): { request: Record<string, unknown>; llmq: Record<string, unknown> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OpenAiError(400, 'invalid_request_error', 'the body must be a JSON object');
  }
  const { llmq = {}, ...request } = body as Record<string, unknown>;
  if (typeof llmq !== 'object' || llmq === null || Array.isArray(llmq)) {
    throw new OpenAiError(400, 'invalid_request_error', 'llmq: must be an object of job options', { param: 'llmq' });
  }
  for (const field of Object.keys(llmq)) {
    if (!LLMQ_OPTION_FIELDS.includes(field)) {
      throw new OpenAiError(
        400,
        'invalid_request_error',
        `llmq.${field}: unknown job option (known: ${LLMQ_OPTION_FIELDS.join(', ')})`,
        { param: `llmq.${field}` },
      );
    }
  }
  return { request, llmq: llmq as Record<string, unknown> };
}

/** A 404 for a model this deployment cannot route (an unknown provider or alias). */
function requireKnownModel(catalog: ModelCatalog, model: unknown): void {
  if (typeof model !== 'string' || model === '') return;
  const resolution = resolveModel(catalog, model);
  if (!resolution.ok) {
    throw new OpenAiError(
      404,
      'invalid_request_error',
      `The model \`${model}\` does not exist: ${resolution.problem}`,
      {
        param: 'model',
        code: 'model_not_found',
      },
    );
  }
}

/** Turns a submission schema's refusal into OpenAI's 400, `param` naming the field as the client sent it. */
export function parseSubmission(schema: z.ZodType<JobSubmission>, submission: unknown): JobSubmission {
  const parsed = schema.safeParse(submission);
  if (parsed.success) return parsed.data;
  const [first] = parsed.error.issues;
  const path = first?.path ?? [];
  const param = path[0] === 'request' ? paramOf(path.slice(1)) : paramOf(['llmq', ...path]);
  throw new OpenAiError(400, 'invalid_request_error', formatValidationError(parsed.error), {
    param,
    code: 'invalid_value',
  });
}

/** A Chat Completions body as a chat job submission (unvalidated), and how to answer it. */
export function chatSubmission(
  catalog: ModelCatalog,
  body: unknown,
): { submission: unknown; answer: ChatAnswerOptions } {
  const { request, llmq } = splitBody(body);
  const answer = chatAnswerSchema.safeParse(request);
  if (!answer.success) throw badRequest(answer.error, '');
  requireKnownModel(catalog, request.model);
  const { stream: _stream, stream_options: _streamOptions, ...jobRequest } = request;
  return {
    submission: { type: 'chat', request: jobRequest, ...llmq },
    answer: { stream: answer.data.stream === true, includeUsage: answer.data.stream_options?.include_usage === true },
  };
}

/** An Embeddings body as an embedding job submission (unvalidated), and the encoding it asks for. */
export function embeddingSubmission(
  catalog: ModelCatalog,
  body: unknown,
): { submission: unknown; encoding: 'float' | 'base64' } {
  const { request, llmq } = splitBody(body);
  const answer = embeddingAnswerSchema.safeParse(request);
  if (!answer.success) throw badRequest(answer.error, '');
  requireKnownModel(catalog, request.model);
  // Jobs store floats; base64 is a matter of the answer.
  const { encoding_format: _encoding, ...jobRequest } = request;
  return {
    submission: { type: 'embedding', request: jobRequest, ...llmq },
    encoding: answer.data.encoding_format ?? 'float',
  };
}
