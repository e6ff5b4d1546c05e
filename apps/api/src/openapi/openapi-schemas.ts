import { z } from 'zod';
import { JOB_STATUSES, JOB_TYPES, WEBHOOK_STATUSES } from '@llmq/core';

/**
 * Schemas of what the API answers, for the OpenAPI document. Requests are described by the very
 * schemas the routes validate with; answers are built by code, so these describe them, and
 * openapi.test.ts parses real answers with them to keep the two in step.
 */

const unixSeconds = z.number().describe('Unix seconds');

/** The one error body of every route. */
export const errorBodySchema = z.object({
  error: z.looseObject({
    type: z.string().describe('machine-readable kind: invalid_request, authentication, not_found, rate_limited...'),
    message: z.string().describe('what went wrong, naming the field when there is one'),
  }),
});

const jobErrorSchema = z.object({
  type: z
    .string()
    .describe(
      'rate_limit, quota_exceeded, authentication, permission, invalid_request, overloaded, timeout, connection, provider_error, canceled, internal',
    ),
  message: z.string(),
  provider: z.string().optional(),
  status: z.number().int().optional().describe("the provider's HTTP status"),
});

const usageSchema = z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() });

const toolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string().describe('JSON text') }),
});

const chatResultSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: unixSeconds,
    model: z.string(),
    provider: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({
          role: z.literal('assistant'),
          content: z.string().nullable(),
          tool_calls: z.array(toolCallSchema).optional(),
          refusal: z.string().nullable().optional(),
        }),
        finish_reason: z.enum(['stop', 'length', 'tool_calls', 'content_filter']),
      }),
    ),
    usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() }),
    system_fingerprint: z.string().nullable().optional(),
  })
  .describe('OpenAI ChatCompletion, plus the provider that answered');

const embeddingResultSchema = z
  .object({
    object: z.literal('list'),
    model: z.string(),
    provider: z.string(),
    data: z.array(
      z.object({ object: z.literal('embedding'), index: z.number().int(), embedding: z.array(z.number()) }),
    ),
    usage: z.object({ prompt_tokens: z.number(), total_tokens: z.number() }),
  })
  .describe('OpenAI CreateEmbeddingResponse, plus the provider that answered');

const webhookDeliverySchema = z.object({
  attempt: z.number().int(),
  attempted_at: unixSeconds,
  outcome: z.enum(['delivered', 'gone', 'refused', 'failed']),
  status_code: z.number().int().nullable(),
  duration_ms: z.number(),
  error: z.string().nullable(),
});

/** `GET /v1/jobs/{id}`. */
export const jobObjectSchema = z.strictObject({
  id: z.string(),
  object: z.literal('job'),
  type: z.enum(JOB_TYPES),
  status: z.enum(JOB_STATUSES),
  model: z.string().describe('as submitted: provider/model or an alias'),
  fallbacks: z.array(z.string()),
  attempts: z.number().int().describe('provider calls started so far'),
  attempt_log: z.array(
    z.object({
      model: z.string(),
      status: z.enum(['succeeded', 'failed']),
      started_at: unixSeconds,
      duration_ms: z.number(),
      error: jobErrorSchema.optional(),
    }),
  ),
  answered_by: z.string().nullable().describe('provider/model that produced the result'),
  metadata: z.record(z.string(), z.string()),
  webhook: z
    .object({ url: z.string(), status: z.enum(WEBHOOK_STATUSES), deliveries: z.array(webhookDeliverySchema) })
    .nullable(),
  created_at: unixSeconds,
  started_at: unixSeconds.nullable(),
  finished_at: unixSeconds.nullable(),
  waiting_for: z.enum(['rate_limit', 'circuit_open']).nullable(),
  earliest_start_at: unixSeconds.nullable(),
  result: z.union([chatResultSchema, embeddingResultSchema]).nullable(),
  error: jobErrorSchema.nullable(),
  usage: usageSchema.nullable(),
  cost_usd: z.number().nullable().describe('once ended; null when a price is unknown'),
  saved_usd: z.number().nullable().describe('what the cache saved, once ended'),
  cost_unknown_reason: z.string().nullable(),
  cached: z.enum(['exact', 'semantic', 'partial']).nullable(),
  cache_similarity: z.number().nullable(),
  cached_inputs: z.number().int().nullable(),
});

export const jobListSchema = z.object({
  object: z.literal('list'),
  data: z.array(jobObjectSchema),
  has_more: z.boolean(),
  next_cursor: z.string().nullable().describe('pass as ?after= for the next page'),
});

export const jobBatchAcceptedSchema = z.object({ object: z.literal('list'), data: z.array(jobObjectSchema) });

const webhookSecretEntrySchema = z.object({
  id: z.string(),
  secret: z.string().describe('whsec_<base64>'),
  created_at: unixSeconds,
  expires_at: unixSeconds.optional().describe('when a rotated-out secret stops signing'),
});

export const webhookSecretSchema = z.object({
  object: z.literal('webhook_secret'),
  current: webhookSecretEntrySchema,
  previous: z.array(webhookSecretEntrySchema),
});

export const healthSchema = z.object({ status: z.literal('ok') });
export const readySchema = z.object({ status: z.literal('ready') });

const usageTotalsShape = {
  input_tokens: z.number(),
  output_tokens: z.number(),
  cost_usd: z.number(),
  saved_usd: z.number(),
  saved_input_tokens: z.number(),
  saved_output_tokens: z.number(),
  cache_hits: z.number(),
  unpriced_charges: z.number(),
};

/** `GET /v1/usage`. */
export const usageReportSchema = z.looseObject({
  object: z.literal('usage'),
  from: z.string().describe('first UTC day, YYYY-MM-DD'),
  to: z.string().describe('last UTC day, YYYY-MM-DD'),
  group_by: z.enum(['model', 'day']).nullable(),
  ...usageTotalsShape,
  data: z.array(z.looseObject(usageTotalsShape).describe('one group: its `model` or `day`, and its totals')),
  budget: z.looseObject({}).nullable().describe("this month's budget figures, when budgets are configured"),
  built_in_prices_date: z.string(),
});
