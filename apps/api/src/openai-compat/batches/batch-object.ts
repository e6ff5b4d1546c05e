import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const BATCH_STATUSES = [
  'validating',
  'failed',
  'in_progress',
  'finalizing',
  'completed',
  'expired',
  'cancelling',
  'cancelled',
] as const;

export const BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings'] as const;

const timestamp = z.number().int().nullable().describe('Unix seconds, or null before it happens');

/** A problem of the input file that failed the batch at validation (OpenAI's `errors.data[]`). */
export const batchErrorSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  param: z.string().nullable(),
  line: z.number().int().nullable().describe('1-based line of the input file'),
});

/** Tokens of the batch's succeeded lines, summed (OpenAI's `usage`); 0 where a provider reports no detail. */
export const batchUsageSchema = z.strictObject({
  input_tokens: z.number().int(),
  input_tokens_details: z.strictObject({ cached_tokens: z.number().int() }),
  output_tokens: z.number().int(),
  output_tokens_details: z.strictObject({ reasoning_tokens: z.number().int() }),
  total_tokens: z.number().int(),
});
export type BatchUsage = z.infer<typeof batchUsageSchema>;

/** OpenAI's batch object. */
export const batchObjectSchema = z.strictObject({
  id: z.string(),
  object: z.literal('batch'),
  endpoint: z.enum(BATCH_ENDPOINTS),
  errors: z.strictObject({ object: z.literal('list'), data: z.array(batchErrorSchema) }).nullable(),
  input_file_id: z.string(),
  completion_window: z.literal('24h'),
  status: z.enum(BATCH_STATUSES),
  output_file_id: z.string().nullable(),
  error_file_id: z.string().nullable(),
  created_at: z.number().int(),
  in_progress_at: timestamp,
  expires_at: timestamp,
  finalizing_at: timestamp,
  completed_at: timestamp,
  failed_at: timestamp,
  expired_at: timestamp,
  cancelling_at: timestamp,
  cancelled_at: timestamp,
  request_counts: z.strictObject({ total: z.number().int(), completed: z.number().int(), failed: z.number().int() }),
  metadata: z.record(z.string(), z.string()).nullable(),
  usage: batchUsageSchema,
});
export type BatchObject = z.infer<typeof batchObjectSchema>;
export type BatchError = z.infer<typeof batchErrorSchema>;

/** `batch_` then 12 base-36 characters of milliseconds (ids sort by creation) and 16 hex of randomness. */
export const BATCH_ID_PATTERN = '^batch_[0-9a-z]{12}[0-9a-f]{16}$';
const BATCH_ID = new RegExp(BATCH_ID_PATTERN);
export const isBatchId = (id: string) => BATCH_ID.test(id);
export const createBatchId = (now = Date.now()) =>
  `batch_${now.toString(36).padStart(12, '0')}${randomBytes(8).toString('hex')}`;

/** Body of `POST /v1/batches`. */
export const batchCreateSchema = z.strictObject({
  input_file_id: z.string().min(1),
  endpoint: z.enum(BATCH_ENDPOINTS, { error: `must be ${BATCH_ENDPOINTS.join(' or ')}` }),
  completion_window: z.literal('24h', { error: 'must be "24h"' }),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((value) => Object.keys(value).length <= 16, 'at most 16 keys')
    .nullable()
    .optional(),
  /** llmq's own options (the SDKs' `extra_body`). */
  llmq: z
    .strictObject({
      provider_batches: z
        .boolean()
        .optional()
        .describe(
          "false: the lines run as ordinary jobs, as soon as the limits allow, at the listed price; true: each waits for its provider's batch API at the batch price. Default: the deployment's batching.batch_api_lines",
        ),
    })
    .optional(),
});

/** A new batch, `validating`, with nothing counted yet. */
export function newBatchObject(options: {
  endpoint: BatchObject['endpoint'];
  inputFileId: string;
  metadata: BatchObject['metadata'];
  /** When it was created and when its window ends, ms. */
  createdAt: number;
  expiresAt: number;
}): BatchObject {
  const seconds = (ms: number) => Math.floor(ms / 1000);
  return {
    id: createBatchId(options.createdAt),
    object: 'batch',
    endpoint: options.endpoint,
    errors: null,
    input_file_id: options.inputFileId,
    completion_window: '24h',
    status: 'validating',
    output_file_id: null,
    error_file_id: null,
    created_at: seconds(options.createdAt),
    in_progress_at: null,
    expires_at: seconds(options.expiresAt),
    finalizing_at: null,
    completed_at: null,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    request_counts: { total: 0, completed: 0, failed: 0 },
    metadata: options.metadata,
    usage: {
      input_tokens: 0,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 0,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 0,
    },
  };
}
