import { z } from 'zod';
import type { CacheHitKind, JobSpend } from '../cost/job-spend.js';
import type { AttemptLogEntry, JobError, JobStatus, JobUsage, WaitReason } from '../jobs/job-object.js';
import { JOB_STATUSES } from '../jobs/job-object.js';
import { JOB_TYPES, type JobSubmission } from '../jobs/job-submission-schema.js';
import type { ChatCompletionResult, EmbeddingResult } from '../providers/chat-completion.js';
import { PROVIDER_ERROR_KINDS } from '../providers/provider-error.js';
import { WEBHOOK_STATUSES, type WebhookDelivery, type WebhookStatus } from '../webhooks/webhook-delivery-state.js';

/**
 * Every field of a job record hash, named once. Writers (the job store, the lifecycle verbs, cost
 * accounting, webhook deliveries) and the reader below use these names; the Lua scripts receive
 * them as arguments, apart from `status`, `run` and `webhook_*`, which they name themselves.
 */
export const RECORD_FIELD = {
  id: 'id',
  tenant: 'tenant',
  status: 'status',
  submission: 'submission',
  /** The submission's model (or alias), kept apart so an end's notice can name it without reading the submission. */
  model: 'model',
  createdAt: 'created_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  attempts: 'attempts',
  modelIndex: 'model_index',
  modelAttempts: (modelIndex: number) => `model_attempts_${modelIndex}`,
  waitingFor: 'waiting_for',
  earliestStartAt: 'earliest_start_at',
  /** The provider batch a deferrable job was sent in, and when (ms). */
  providerBatchId: 'provider_batch_id',
  providerBatchSentAt: 'provider_batch_sent_at',
  /** The run (BullMQ lock token) that owns the job. */
  run: 'run',
  attemptLog: 'attempt_log',
  result: 'result',
  usage: 'usage',
  answeredBy: 'answered_by',
  /** The provider account that answered (its name), for a provider with accounts. */
  account: 'account',
  error: 'error',
  webhookUrl: 'webhook_url',
  webhookStatus: 'webhook_status',
  webhookDeliveries: 'webhook_deliveries',
  cost: 'cost_nano',
  saved: 'saved_nano',
  costUnknown: 'cost_unknown',
  budgetReserved: 'budget_reserved_nano',
  cached: 'cached',
  cacheSimilarity: 'cache_similarity',
  cachedInputs: 'cached_inputs',
  /** Transitions made since creation, one per `JobStore.transition`; orders a job's status events. */
  transitions: 'transitions',
} as const;

/** A job as stored: the submission and everything that happened to it. */
export interface JobRecord {
  id: string;
  tenant: string;
  status: JobStatus;
  submission: JobSubmission;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  attempts: number;
  /** Why a queued job is not running yet, when it is held back on purpose. */
  waitingFor: WaitReason | null;
  /** With `waitingFor`: the earliest time (ms) the job may start. */
  earliestStartAt: number | null;
  /** A deferrable job's provider batch: its id at the provider and when it was sent (ms). */
  providerBatch: { id: string; sentAt: number } | null;
  /** Position in the model chain (0: the job's own model). */
  modelIndex: number;
  /** Provider calls made to the model at `modelIndex`. */
  modelAttempts: number;
  attemptLog: AttemptLogEntry[];
  /** `provider/model` that produced the result. */
  answeredBy: string | null;
  /** The provider account that produced the result; null without accounts. */
  account: string | null;
  result: ChatCompletionResult | EmbeddingResult | null;
  error: JobError | null;
  usage: JobUsage | null;
  /** Set by the first delivery attempt; null before. */
  webhookStatus: WebhookStatus | null;
  webhookDeliveries: WebhookDelivery[];
  /** Cost, savings and cache hit. */
  spend: JobSpend;
  /** Transitions made since creation (0 while first queued), each announced by one status event. */
  transitions: number;
}

/** A record field that does not hold what its writer puts there. */
export class CorruptJobRecordError extends Error {
  constructor(
    readonly jobId: string,
    readonly problem: string,
  ) {
    super(`job record ${jobId} is corrupt: ${problem}`);
    this.name = 'CorruptJobRecordError';
  }
}

// Codecs of the stored strings. Hash fields are strings; absent and '' both mean "not set".
/** A field that may be absent or '' (both: not set, read as null). */
const optional = <T extends z.ZodType>(schema: T) =>
  z
    .union([z.literal('').transform(() => null), schema])
    .optional()
    .transform((value) => value ?? null);
const integer = z
  .string()
  .regex(/^-?\d+$/)
  .transform(Number);
const decimal = z
  .string()
  .regex(/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i)
  .transform(Number);
/** Times are milliseconds, written from numbers that may carry a fraction. */
const time = decimal;
/** A JSON document, then `schema` over what it holds. */
const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, context): z.output<T> | typeof z.NEVER => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      context.addIssue({ code: 'custom', message: 'is not JSON' });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues)
      context.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  });

const jobErrorSchema = z.object({
  type: z.enum([...PROVIDER_ERROR_KINDS, 'internal']),
  message: z.string(),
  provider: z.string().optional(),
  status: z.number().optional(),
}) satisfies z.ZodType<JobError>;

const attemptSchema = z.object({
  model: z.string(),
  status: z.enum(['succeeded', 'failed']),
  started_at: z.number(),
  duration_ms: z.number(),
  account: z.string().optional(),
  error: jobErrorSchema.optional(),
}) satisfies z.ZodType<AttemptLogEntry>;

const deliverySchema = z
  .object({
    attempt: z.number(),
    attempted_at: z.number(),
    outcome: z.enum(['delivered', 'gone', 'refused', 'failed']),
    status_code: z.number().nullable(),
    duration_ms: z.number(),
    error: z.string().nullable(),
  })
  // Redis's cjson, which appends attempts, does not keep key order: rebuild it.
  .transform((delivery): WebhookDelivery => ({
    attempt: delivery.attempt,
    attempted_at: delivery.attempted_at,
    outcome: delivery.outcome,
    status_code: delivery.status_code,
    duration_ms: delivery.duration_ms,
    error: delivery.error,
  }));

const usageSchema = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cached_input_tokens: z.number().optional(),
}) satisfies z.ZodType<JobUsage>;

/*
 * The submission and the result are validated in full where they are made (the API's submission
 * schema, the provider adapters); reading one back checks its kind and leaves the rest as written,
 * since a full pass over a 4 MiB submission on every read would cost more than the read.
 */
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const storedSubmission = z.custom<JobSubmission>(
  (value) =>
    isObject(value) &&
    JOB_TYPES.some((type) => type === value.type) &&
    isObject(value.request) &&
    typeof value.request.model === 'string',
  { message: 'is not a job submission' },
);
const storedResult = z.custom<ChatCompletionResult | EmbeddingResult>(
  (value) => isObject(value) && (value.object === 'chat.completion' || value.object === 'list'),
  { message: 'is not a chat completion or an embedding list' },
);

const recordSchema = z
  .object({
    [RECORD_FIELD.id]: z.string().min(1),
    [RECORD_FIELD.tenant]: z.string().min(1),
    [RECORD_FIELD.status]: z.enum(JOB_STATUSES),
    [RECORD_FIELD.submission]: json(storedSubmission),
    [RECORD_FIELD.createdAt]: time,
    [RECORD_FIELD.startedAt]: optional(time),
    [RECORD_FIELD.finishedAt]: optional(time),
    [RECORD_FIELD.attempts]: optional(integer),
    [RECORD_FIELD.modelIndex]: optional(integer),
    [RECORD_FIELD.waitingFor]: optional(
      z.enum(['rate_limit', 'fair_share', 'circuit_open', 'provider_batch'] satisfies WaitReason[]),
    ),
    [RECORD_FIELD.earliestStartAt]: optional(time),
    [RECORD_FIELD.providerBatchId]: optional(z.string()),
    [RECORD_FIELD.providerBatchSentAt]: optional(time),
    [RECORD_FIELD.attemptLog]: optional(json(z.array(attemptSchema))),
    [RECORD_FIELD.answeredBy]: optional(z.string()),
    [RECORD_FIELD.account]: optional(z.string()),
    [RECORD_FIELD.result]: optional(json(storedResult)),
    [RECORD_FIELD.error]: optional(json(jobErrorSchema)),
    [RECORD_FIELD.usage]: optional(json(usageSchema)),
    [RECORD_FIELD.webhookStatus]: optional(z.enum(WEBHOOK_STATUSES)),
    [RECORD_FIELD.webhookDeliveries]: optional(json(z.array(deliverySchema))),
    [RECORD_FIELD.cost]: optional(integer),
    [RECORD_FIELD.saved]: optional(integer),
    [RECORD_FIELD.costUnknown]: optional(z.string()),
    [RECORD_FIELD.cached]: optional(z.enum(['exact', 'semantic', 'partial'] satisfies CacheHitKind[])),
    [RECORD_FIELD.cacheSimilarity]: optional(decimal),
    [RECORD_FIELD.cachedInputs]: optional(integer),
    [RECORD_FIELD.transitions]: optional(integer),
  })
  // Counters of other models (`model_attempts_<n>`), the run, the budget reservation and so on.
  .loose();

/**
 * The record a hash holds: null when there is none (no such key, or a hash missing the fields
 * every record is created with); throws CorruptJobRecordError when a field does not parse.
 */
export function parseJobRecord(fields: Record<string, string>): JobRecord | null {
  const id = fields[RECORD_FIELD.id];
  if (id === undefined || fields[RECORD_FIELD.submission] === undefined) return null;
  const parsed = recordSchema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorruptJobRecordError(id, `${issue?.path.join('.')}: ${issue?.message}`);
  }
  const record = parsed.data;
  const modelIndex = record[RECORD_FIELD.modelIndex] ?? 0;
  const modelAttempts = integer.safeParse(fields[RECORD_FIELD.modelAttempts(modelIndex)] ?? '0');
  return {
    id: record[RECORD_FIELD.id],
    tenant: record[RECORD_FIELD.tenant],
    status: record[RECORD_FIELD.status],
    submission: record[RECORD_FIELD.submission],
    createdAt: record[RECORD_FIELD.createdAt],
    startedAt: record[RECORD_FIELD.startedAt],
    finishedAt: record[RECORD_FIELD.finishedAt],
    attempts: record[RECORD_FIELD.attempts] ?? 0,
    waitingFor: record[RECORD_FIELD.waitingFor],
    earliestStartAt: record[RECORD_FIELD.earliestStartAt],
    providerBatch: providerBatchOf(record[RECORD_FIELD.providerBatchId], record[RECORD_FIELD.providerBatchSentAt]),
    modelIndex,
    modelAttempts: modelAttempts.success ? modelAttempts.data : 0,
    attemptLog: record[RECORD_FIELD.attemptLog] ?? [],
    answeredBy: record[RECORD_FIELD.answeredBy],
    account: record[RECORD_FIELD.account],
    result: record[RECORD_FIELD.result],
    error: record[RECORD_FIELD.error],
    usage: record[RECORD_FIELD.usage],
    webhookStatus: record[RECORD_FIELD.webhookStatus],
    webhookDeliveries: record[RECORD_FIELD.webhookDeliveries] ?? [],
    spend: {
      costNano: record[RECORD_FIELD.cost],
      savedNano: record[RECORD_FIELD.saved],
      costUnknown: record[RECORD_FIELD.costUnknown],
      cached: record[RECORD_FIELD.cached],
      cacheSimilarity: record[RECORD_FIELD.cacheSimilarity],
      cachedInputs: record[RECORD_FIELD.cachedInputs],
    },
    transitions: record[RECORD_FIELD.transitions] ?? 0,
  };
}

/** The fields a webhook enqueue reads: never the prompt or the result. */
export const WEBHOOK_READ_FIELDS = [RECORD_FIELD.status, RECORD_FIELD.webhookUrl, RECORD_FIELD.webhookStatus] as const;

const webhookFieldsSchema = z.tuple([
  z.enum(JOB_STATUSES),
  z.union([z.null(), z.string()]),
  z.union([z.null(), z.literal(''), z.enum(WEBHOOK_STATUSES)]).transform((status) => status || null),
]);

/** WEBHOOK_READ_FIELDS as HMGET answers them; null when there is no record. */
export function parseWebhookFields(
  jobId: string,
  values: Array<string | null>,
): { status: JobStatus; webhookUrl: string | null; webhookStatus: WebhookStatus | null } | null {
  if (values[0] === null || values[0] === undefined) return null;
  const parsed = webhookFieldsSchema.safeParse(values);
  if (!parsed.success) throw new CorruptJobRecordError(jobId, parsed.error.issues[0]?.message ?? 'webhook fields');
  const [status, webhookUrl, webhookStatus] = parsed.data;
  return { status, webhookUrl, webhookStatus };
}

/** The stored submission alone. */
export function parseStoredSubmission(jobId: string, text: string): JobSubmission {
  const parsed = json(storedSubmission).safeParse(text);
  if (!parsed.success) throw new CorruptJobRecordError(jobId, `submission: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function providerBatchOf(id: string | null, sentAt: number | null): JobRecord['providerBatch'] {
  return id === null || sentAt === null ? null : { id, sentAt };
}
