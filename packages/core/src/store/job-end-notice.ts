import { z } from 'zod';
import type { JobSpendEvent } from '../cost/spend-observer.js';
import { JOB_TYPES, type JobType } from '../jobs/job-submission-schema.js';
import { isTraceparent } from '../tracing/trace-context.js';
import type { EndedJobStatus } from '../webhooks/webhook-event.js';

/**
 * A job's end as its tenant's outbox carries it: written by the transition that ended the job, in
 * the same Lua call, and read by the workers' end dispatcher, which stores the answer in the cache,
 * queues the webhook and counts the end in the metrics. What the ending run knew and the record
 * does not keep (its type, its money event, the prompt's vector) rides along, so the dispatcher
 * never has to read a large record for them.
 */
export interface JobEndNotice {
  tenant: string;
  jobId: string;
  status: EndedJobStatus;
  /** Null when whoever ended the job did not know it (the API's cancel, the reconciler). */
  type: JobType | null;
  /** What the job cost and saved; null when nothing was charged. */
  spend: JobSpendEvent | null;
  /** Set when the answer should go into the response cache: the model that gave it and, for a semantic lookup, the prompt's vector. */
  cache: { model: string; vector: Float32Array | null } | null;
  /** W3C `traceparent` of the span that wrote the end (absent when tracing is off): what follows joins the job's trace. */
  traceparent?: string;
  /** The model the job asked for (model or alias), copied from the record; null for a record written before it kept one. */
  model: string | null;
  /** When the job was submitted, ms since the epoch; copied from the record. */
  createdAt: number | null;
  /** When a worker first started it, ms; null when it never started. Copied from the record. */
  startedAt: number | null;
  /** When it ended, ms. */
  finishedAt: number | null;
}

/** What an ending run may add to its notice. */
export type JobEndDetails = Partial<Pick<JobEndNotice, 'type' | 'spend' | 'cache' | 'traceparent'>>;

const TRACEPARENT_FIELD = 'traceparent';

const NOTICE_FIELD = {
  type: 'type',
  spend: 'spend',
  cache: 'cache_model',
  vector: 'cache_vector',
  model: 'model',
  createdAt: 'created_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
} as const;

/**
 * The transition fields of every end's notice: its time (`@name`: an outbox field) and the
 * record's model and times (`&name`: the outbox field `name` copied from a record field).
 */
export function noticeClockFields(
  at: number,
  record: { model: string; createdAt: string; startedAt: string },
): Record<string, string> {
  return {
    [`@${NOTICE_FIELD.finishedAt}`]: String(at),
    [`&${NOTICE_FIELD.model}`]: record.model,
    [`&${NOTICE_FIELD.createdAt}`]: record.createdAt,
    [`&${NOTICE_FIELD.startedAt}`]: record.startedAt,
  };
}

/** The transition fields (`@name`: an outbox field) that carry `details`. */
export function noticeFields(details: JobEndDetails | undefined): Record<string, string> {
  if (details === undefined) return {};
  const fields: Record<string, string> = {};
  if (details.type) fields[`@${NOTICE_FIELD.type}`] = details.type;
  if (details.spend) fields[`@${NOTICE_FIELD.spend}`] = JSON.stringify(details.spend);
  if (details.traceparent) fields[`@${TRACEPARENT_FIELD}`] = details.traceparent;
  if (details.cache) {
    fields[`@${NOTICE_FIELD.cache}`] = details.cache.model;
    const vector = details.cache.vector;
    if (vector) {
      fields[`@${NOTICE_FIELD.vector}`] = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString(
        'base64',
      );
    }
  }
  return fields;
}

const spendSchema = z.object({
  tenant: z.string(),
  model: z.string(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costNano: z.number().nullable(),
  savedNano: z.number().nullable(),
  savedInputTokens: z.number(),
  savedOutputTokens: z.number(),
  cached: z.enum(['exact', 'semantic', 'partial']).nullable(),
}) satisfies z.ZodType<JobSpendEvent>;

const millis = z.string().regex(/^\d+$/).transform(Number).optional().catch(undefined);

const entrySchema = z.object({
  id: z.string().min(1),
  status: z.enum(['succeeded', 'failed', 'canceled'] satisfies EndedJobStatus[]),
  [NOTICE_FIELD.type]: z.enum(JOB_TYPES).optional(),
  [NOTICE_FIELD.spend]: z
    .string()
    .transform((text, context) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      const parsed = spendSchema.safeParse(value);
      if (parsed.success) return parsed.data;
      context.addIssue({ code: 'custom', message: 'is not a spend event' });
      return z.NEVER;
    })
    .optional(),
  [NOTICE_FIELD.cache]: z.string().min(1).optional(),
  [NOTICE_FIELD.vector]: z.base64().optional(),
  // Tracing only: a value that does not parse is left out, never the notice.
  [TRACEPARENT_FIELD]: z.string().refine(isTraceparent).optional().catch(undefined),
  // Metrics only: a field that does not parse is left out, never the notice.
  [NOTICE_FIELD.model]: z.string().min(1).optional().catch(undefined),
  [NOTICE_FIELD.createdAt]: millis,
  [NOTICE_FIELD.startedAt]: millis,
  [NOTICE_FIELD.finishedAt]: millis,
});

/** An outbox entry's fields (XREADGROUP's flat list) as a notice; null when it is not one of ours. */
export function parseEndNotice(tenant: string, flat: readonly string[]): JobEndNotice | null {
  const fields: Record<string, string> = {};
  for (let index = 0; index + 1 < flat.length; index += 2) fields[flat[index] as string] = flat[index + 1] as string;
  const result = entrySchema.safeParse(fields);
  if (!result.success) return null;
  const parsed = result.data;
  const model = parsed[NOTICE_FIELD.cache];
  const vector = parsed[NOTICE_FIELD.vector];
  return {
    tenant,
    jobId: parsed.id,
    status: parsed.status,
    type: parsed[NOTICE_FIELD.type] ?? null,
    spend: parsed[NOTICE_FIELD.spend] ?? null,
    cache: model === undefined ? null : { model, vector: vector === undefined ? null : vectorFromBase64(vector) },
    ...(parsed[TRACEPARENT_FIELD] === undefined ? {} : { traceparent: parsed[TRACEPARENT_FIELD] }),
    model: parsed[NOTICE_FIELD.model] ?? null,
    createdAt: parsed[NOTICE_FIELD.createdAt] ?? null,
    startedAt: parsed[NOTICE_FIELD.startedAt] ?? null,
    finishedAt: parsed[NOTICE_FIELD.finishedAt] ?? null,
  };
}

function vectorFromBase64(text: string): Float32Array | null {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength === 0 || bytes.byteLength % Float32Array.BYTES_PER_ELEMENT !== 0) return null;
  // A copy: Buffer's pool may not be 4-byte aligned.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
