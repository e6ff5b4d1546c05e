import { z } from 'zod';
import { JOB_STATUSES, PROVIDER_ERROR_KINDS, WEBHOOK_STATUSES, type JobObject } from '@llmq/core';

/**
 * The job object as the API writes it (toJobObject), closed: every field, every enum. A chat job's
 * `result` is a ChatCompletion and an embedding job's a CreateEmbeddingResponse, so `Job` is a
 * union discriminated by `type`. openapi.test.ts parses real answers with these schemas.
 */

const unixSeconds = z.number().describe('Unix seconds');

/** `job_` and 26 Crockford base32 characters (see createJobId); isJobId agrees (openapi.test.ts). */
export const JOB_ID_PATTERN = '^job_[0-9A-HJKMNP-TV-Z]{26}$';

/** The kinds of a failed job's error: a provider error kind, or llmq's own failure. */
export const JOB_ERROR_TYPES = [...PROVIDER_ERROR_KINDS, 'internal'] as const satisfies ReadonlyArray<
  NonNullable<JobObject['error']>['type']
>;

const jobErrorSchema = z.strictObject({
  type: z.enum(JOB_ERROR_TYPES),
  message: z.string(),
  provider: z.string().optional().describe('the provider that answered with the error'),
  status: z.number().int().optional().describe("the provider's HTTP status"),
});

const usageSchema = z.strictObject({
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cached_input_tokens: z
    .number()
    .int()
    .optional()
    .describe(
      'of input_tokens, those the provider served from its prompt cache (charged at its cached-input price); left out when none were',
    ),
});

const toolCallSchema = z.strictObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.strictObject({ name: z.string(), arguments: z.string().describe('JSON text') }),
});

export const chatResultSchema = z
  .strictObject({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: unixSeconds,
    model: z.string(),
    provider: z.string(),
    choices: z.array(
      z.strictObject({
        index: z.number().int(),
        message: z.strictObject({
          role: z.literal('assistant'),
          content: z.string().nullable(),
          tool_calls: z.array(toolCallSchema).optional(),
          refusal: z.string().nullable().optional(),
        }),
        finish_reason: z.enum(['stop', 'length', 'tool_calls', 'content_filter']),
      }),
    ),
    usage: z.strictObject({
      prompt_tokens: z.number(),
      completion_tokens: z.number(),
      total_tokens: z.number(),
      prompt_tokens_details: z
        .strictObject({
          cached_tokens: z.number().describe("of prompt_tokens, those read from the provider's prompt cache"),
        })
        .optional()
        .describe('set by every adapter, 0 when the provider reports no cached tokens'),
    }),
    system_fingerprint: z.string().nullable().optional(),
  })
  .describe('OpenAI ChatCompletion, plus the provider that answered');

export const embeddingResultSchema = z
  .strictObject({
    object: z.literal('list'),
    model: z.string(),
    provider: z.string(),
    data: z.array(
      z.strictObject({ object: z.literal('embedding'), index: z.number().int(), embedding: z.array(z.number()) }),
    ),
    usage: z.strictObject({ prompt_tokens: z.number(), total_tokens: z.number() }),
  })
  .describe('OpenAI CreateEmbeddingResponse, plus the provider that answered');

const webhookDeliverySchema = z.strictObject({
  attempt: z.number().int().describe('1 for the first attempt of a delivery; a redelivery starts again at 1'),
  attempted_at: unixSeconds,
  outcome: z.enum(['delivered', 'gone', 'refused', 'failed']),
  status_code: z.number().int().nullable().describe("the receiver's HTTP status; null when it gave none"),
  duration_ms: z.number(),
  error: z.string().nullable(),
});

const jobFields = {
  id: z.string().regex(new RegExp(JOB_ID_PATTERN)),
  object: z.literal('job'),
  status: z.enum(JOB_STATUSES),
  model: z.string().describe('as submitted: provider/model or an alias'),
  fallbacks: z.array(z.string()),
  attempts: z.number().int().describe('provider calls started so far'),
  attempt_log: z.array(
    z.strictObject({
      model: z.string().describe('provider/model called'),
      status: z.enum(['succeeded', 'failed']),
      started_at: unixSeconds,
      duration_ms: z.number(),
      account: z.string().optional().describe('the provider account called (its name), for a provider with accounts'),
      error: jobErrorSchema.optional(),
    }),
  ),
  answered_by: z.string().nullable().describe('provider/model that produced the result'),
  account: z
    .string()
    .nullable()
    .describe('the provider account that produced the result (its name, never its key); null without accounts'),
  metadata: z.record(z.string(), z.string()),
  webhook: z
    .strictObject({
      url: z.string(),
      status: z.enum(WEBHOOK_STATUSES),
      deliveries: z.array(webhookDeliverySchema).describe('the most recent attempts, oldest first (the last 50)'),
    })
    .nullable(),
  created_at: unixSeconds,
  started_at: unixSeconds.nullable(),
  finished_at: unixSeconds.nullable(),
  waiting_for: z
    .enum(['rate_limit', 'fair_share', 'circuit_open', 'provider_batch'] as const satisfies ReadonlyArray<
      NonNullable<JobObject['waiting_for']>
    >)
    .nullable()
    .describe(
      "why a queued job is held back: its turn under the limits, its fair turn among the tenants waiting for its model, its model failing with no fallback, or its provider's batch",
    ),
  earliest_start_at: unixSeconds.nullable().describe('while waiting: the earliest start'),
  provider_batch: z
    .strictObject({ id: z.string(), sent_at: unixSeconds })
    .nullable()
    .describe("a deferrable job's provider batch once sent: the provider's batch id and when it was sent"),
  error: jobErrorSchema.nullable(),
  usage: usageSchema.nullable(),
  cost_usd: z.number().nullable().describe('once ended; null when a price is unknown'),
  saved_usd: z.number().nullable().describe('what the cache saved, once ended'),
  cost_unknown_reason: z.string().nullable(),
  cached: z
    .enum(['exact', 'semantic', 'partial'] as const satisfies ReadonlyArray<NonNullable<JobObject['cached']>>)
    .nullable(),
  cache_similarity: z.number().nullable(),
  cached_inputs: z.number().int().nullable(),
};

export const chatJobSchema = z.strictObject({
  ...jobFields,
  type: z.literal('chat'),
  result: chatResultSchema.nullable().describe('once succeeded: the ChatCompletion'),
});

export const embeddingJobSchema = z.strictObject({
  ...jobFields,
  type: z.literal('embedding'),
  result: embeddingResultSchema.nullable().describe('once succeeded: the CreateEmbeddingResponse'),
});

/** `GET /v1/jobs/{id}`: a chat or an embedding job, by `type`. */
export const jobObjectSchema = z.discriminatedUnion('type', [chatJobSchema, embeddingJobSchema]);

export const jobListSchema = z.strictObject({
  object: z.literal('list'),
  data: z.array(jobObjectSchema),
  has_more: z.boolean(),
  next_cursor: z.string().nullable().describe('pass as ?after= for the next page'),
});

export const jobBatchAcceptedSchema = z.strictObject({ object: z.literal('list'), data: z.array(jobObjectSchema) });
