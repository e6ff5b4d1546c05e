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
  /** `batch` when the job ended with its provider batch line's answer; absent for every other end. */
  path?: JobPath;
  /** The provider account that answered, for a provider with accounts. */
  account?: string;
}

/** How a job got its answer: a call of its own, or a line of a provider batch. */
export type JobPath = 'sync' | 'batch' | 'flex';

/** What an ending run may add to its notice. */
export type JobEndDetails = Partial<
  Pick<JobEndNotice, 'type' | 'spend' | 'cache' | 'traceparent' | 'path' | 'account'>
>;

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
  path: 'path',
  account: 'account',
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
  if (details.path !== undefined && details.path !== 'sync') fields[`@${NOTICE_FIELD.path}`] = details.path;
  if (details.account !== undefined) fields[`@${NOTICE_FIELD.account}`] = details.account;
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

const millis = z.string().regex(/^\d+$/).transform(Number);

const spendJson = z.string().transform((text, context) => {
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
});

/** What makes an entry a job end: without these it is not one of ours. */
const entrySchema = z.object({
  id: z.string().min(1),
  status: z.enum(['succeeded', 'failed', 'canceled'] satisfies EndedJobStatus[]),
});

/**
 * The rest, each read on its own: a field that does not parse is left out and named, never the
 * notice, so a damaged detail costs a cache entry or a metric, not the job's webhook.
 */
const detailSchemas = {
  [NOTICE_FIELD.type]: z.enum(JOB_TYPES),
  [NOTICE_FIELD.spend]: spendJson,
  [NOTICE_FIELD.cache]: z.string().min(1),
  [NOTICE_FIELD.vector]: z.base64(),
  [TRACEPARENT_FIELD]: z.string().refine(isTraceparent),
  [NOTICE_FIELD.model]: z.string().min(1),
  [NOTICE_FIELD.createdAt]: millis,
  [NOTICE_FIELD.startedAt]: millis,
  [NOTICE_FIELD.finishedAt]: millis,
  [NOTICE_FIELD.path]: z.enum(['sync', 'batch', 'flex'] satisfies JobPath[]),
  [NOTICE_FIELD.account]: z.string().min(1),
} as const;
type Details = { [Name in keyof typeof detailSchemas]?: z.output<(typeof detailSchemas)[Name]> };

/**
 * An outbox entry's fields (XREADGROUP's flat list) as a notice; null when it is not one of ours
 * (no id or no ended status). `onUnreadable` hears each detail field that was present and left out.
 */
export function parseEndNotice(
  tenant: string,
  flat: readonly string[],
  onUnreadable: (field: string) => void = () => {},
): JobEndNotice | null {
  const fields: Record<string, string> = {};
  for (let index = 0; index + 1 < flat.length; index += 2) fields[flat[index] as string] = flat[index + 1] as string;
  const head = entrySchema.safeParse(fields);
  if (!head.success) return null;
  const details: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(detailSchemas)) {
    if (fields[name] === undefined) continue;
    const parsed = (schema as z.ZodType).safeParse(fields[name]);
    if (parsed.success) details[name] = parsed.data;
    else onUnreadable(name);
  }
  const read = details as Details;
  const model = read[NOTICE_FIELD.cache];
  const vector = read[NOTICE_FIELD.vector];
  const traceparent = read[TRACEPARENT_FIELD];
  const path = read[NOTICE_FIELD.path];
  const account = read[NOTICE_FIELD.account];
  return {
    tenant,
    jobId: head.data.id,
    status: head.data.status,
    type: read[NOTICE_FIELD.type] ?? null,
    spend: read[NOTICE_FIELD.spend] ?? null,
    cache: model === undefined ? null : { model, vector: vector === undefined ? null : vectorFromBase64(vector) },
    ...(traceparent === undefined ? {} : { traceparent }),
    model: read[NOTICE_FIELD.model] ?? null,
    createdAt: read[NOTICE_FIELD.createdAt] ?? null,
    startedAt: read[NOTICE_FIELD.startedAt] ?? null,
    finishedAt: read[NOTICE_FIELD.finishedAt] ?? null,
    ...(path === undefined ? {} : { path }),
    ...(account === undefined ? {} : { account }),
  };
}

function vectorFromBase64(text: string): Float32Array | null {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength === 0 || bytes.byteLength % Float32Array.BYTES_PER_ELEMENT !== 0) return null;
  // A copy: Buffer's pool may not be 4-byte aligned.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
