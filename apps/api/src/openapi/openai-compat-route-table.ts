import { z } from 'zod';
import { JOB_ID_HEADER } from '../openai-compat/openai-compat-routes.js';
import { LLMQ_OPTION_FIELDS } from '../openai-compat/openai-request.js';
import type { ApiRoute, RouteAnswer } from './api-route.js';
import { chatResultSchema, embeddingResultSchema } from './job-object-schemas.js';

/** The error body of the OpenAI-compatible routes: OpenAI's, so the SDKs raise their own exception classes. */
const openAiErrorBodySchema = z
  .strictObject({
    error: z.strictObject({
      message: z.string(),
      type: z
        .string()
        .describe('invalid_request_error, authentication_error, rate_limit_error, insufficient_quota, server_error'),
      param: z.string().nullable().describe('the field at fault, as sent (`temperature`, `llmq.fallbacks[0]`)'),
      code: z.string().nullable().describe("for a failed job, llmq's error type (`provider_error`, `timeout`...)"),
    }),
  })
  .describe("OpenAI's error body");

export const openAiError = (description: string, headers?: Record<string, string>): RouteAnswer => ({
  description,
  json: openAiErrorBodySchema,
  ...(headers ? { headers } : {}),
});

const llmqOptionsSchema = z
  .looseObject({})
  .describe(
    `llmq's own job options, as POST /v1/jobs takes them (${LLMQ_OPTION_FIELDS.join(', ')}); sent with the SDKs' extra_body`,
  );

const chatBodySchema = z
  .looseObject({
    model: z.string().describe('`provider/model` or an alias'),
    messages: z.array(z.looseObject({ role: z.string() })).min(1),
    stream: z.boolean().nullable().optional(),
    stream_options: z.strictObject({ include_usage: z.boolean().optional() }).nullable().optional(),
    llmq: llmqOptionsSchema.optional(),
  })
  .describe("OpenAI's Chat Completions request; its fields are checked as a chat job's `request`");

const embeddingBodySchema = z
  .looseObject({
    model: z.string().describe('`provider/model` or an alias'),
    input: z.union([z.string(), z.array(z.string())]),
    dimensions: z.number().int().positive().optional(),
    encoding_format: z.enum(['float', 'base64']).optional(),
    llmq: llmqOptionsSchema.optional(),
  })
  .describe("OpenAI's Embeddings request");

const base64EmbeddingSchema = z
  .strictObject({
    object: z.literal('list'),
    model: z.string(),
    provider: z.string(),
    data: z.array(
      z.strictObject({
        object: z.literal('embedding'),
        index: z.number().int(),
        embedding: z.string().describe('float32 little-endian, base64'),
      }),
    ),
    usage: z.strictObject({ prompt_tokens: z.number(), total_tokens: z.number() }),
  })
  .describe('CreateEmbeddingResponse with encoding_format "base64"');

const chunkSchema = z
  .looseObject({
    id: z.string(),
    object: z.literal('chat.completion.chunk'),
    created: z.number(),
    model: z.string(),
    choices: z.array(
      z.looseObject({ index: z.number().int(), delta: z.looseObject({}), finish_reason: z.string().nullable() }),
    ),
  })
  .describe(
    'the data of one `data:` line; the stream ends with `data: [DONE]`, or with `data: {"error": ...}` when the job fails',
  );

const modelSchema = z.strictObject({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string().describe('the provider, or `llmq` for an alias'),
});

const jobHeader = {
  [JOB_ID_HEADER]: 'the job behind the answer: GET /v1/jobs/{id} reads it after a dropped connection',
};

/** The answers an OpenAI-compatible route shares: every error in OpenAI's body. */
export const openAiErrors: Record<number, RouteAnswer> = {
  400: openAiError('the body is invalid; `param` names the field'),
  401: openAiError('missing or unknown API key', { 'WWW-Authenticate': 'the Bearer challenge (RFC 6750)' }),
  413: openAiError('the body is larger than LLMQ_MAX_BODY_BYTES'),
  415: openAiError('the body is not JSON'),
  429: openAiError('over the per-tenant request rate (LLMQ_API_RATE_LIMIT)', { 'Retry-After': 'seconds' }),
  503: openAiError('Redis is unreachable; retry after Retry-After', { 'Retry-After': 'seconds' }),
};

/** Answers of a route that submits a job and answers with its end. */
const jobAnswers: Record<number, RouteAnswer> = {
  ...openAiErrors,
  400: openAiError('the body is invalid, or the provider refused the request; `param` names the field', jobHeader),
  402: openAiError("the job's estimated cost does not fit in the tenant's monthly budget (code budget_exceeded)"),
  404: openAiError('the model names no provider or alias of this deployment (code model_not_found)'),
  409: openAiError('the job was canceled (DELETE /v1/jobs/{id}) before it ended', jobHeader),
  502: openAiError(
    "the job failed at the provider after its attempts and fallbacks; `code` is llmq's error type",
    jobHeader,
  ),
  504: openAiError('the job reached its deadline (code timeout)', jobHeader),
};

/** OpenAI's API over jobs: chat completions, embeddings and the models this deployment routes. */
export const OPENAI_COMPAT_ROUTES: ApiRoute[] = [
  {
    method: 'post',
    path: '/v1/chat/completions',
    summary: "OpenAI's Chat Completions, run as a job",
    description:
      'Submits a chat job and answers when it ends, with its ChatCompletion; `stream: true` streams chat.completion.chunk events from its output. Waits under the limiter for as long as the client stays; a client that leaves does not cancel the job.',
    tag: 'jobs',
    auth: 'apiKey',
    body: { schema: chatBodySchema, required: true },
    answers: {
      ...jobAnswers,
      200: {
        description:
          'the ChatCompletion; with stream: true, text/event-stream instead: `data: <chat.completion.chunk>` lines, the last chunk carrying finish_reason, then a usage chunk (stream_options.include_usage) and `data: [DONE]`, or `data: {"error": ...}` when the job fails',
        json: chatResultSchema,
        stream: chunkSchema,
        headers: jobHeader,
      },
    },
  },
  {
    method: 'post',
    path: '/v1/embeddings',
    summary: "OpenAI's Embeddings, run as a job",
    description:
      'Submits an embedding job and answers when it ends; encoding_format "base64" answers float32 little-endian base64.',
    tag: 'jobs',
    auth: 'apiKey',
    body: { schema: embeddingBodySchema, required: true },
    answers: {
      ...jobAnswers,
      200: {
        description: 'the CreateEmbeddingResponse',
        json: z.union([embeddingResultSchema, base64EmbeddingSchema]),
        headers: jobHeader,
      },
    },
  },
  {
    method: 'get',
    path: '/v1/models',
    summary: 'The aliases and models this deployment names',
    tag: 'jobs',
    auth: 'apiKey',
    answers: {
      ...openAiErrors,
      200: {
        description: 'OpenAI model list',
        json: z.strictObject({ object: z.literal('list'), data: z.array(modelSchema) }),
      },
    },
  },
  {
    method: 'get',
    path: '/v1/models/:id',
    summary: 'A model or alias (an id with `/` percent-encoded)',
    tag: 'jobs',
    auth: 'apiKey',
    answers: {
      ...openAiErrors,
      200: { description: 'the model', json: modelSchema },
      404: openAiError('no provider or alias of that name'),
    },
  },
  {
    method: 'get',
    path: '/v1/models/:provider/:model',
    summary: 'A `provider/model` id sent with its slash as is',
    tag: 'jobs',
    auth: 'apiKey',
    answers: {
      ...openAiErrors,
      200: { description: 'the model', json: modelSchema },
      404: openAiError('no provider of that name'),
    },
  },
];
