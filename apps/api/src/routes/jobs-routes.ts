import { Router, type Request } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import {
  createJobSubmissionSchema,
  formatValidationError,
  isEnded,
  isJobId,
  type LimitRules,
  type RateLimiter,
  JOB_STATUSES,
  toJobObject,
  type BudgetGuard,
  type JobRecord,
  type JobStore,
  type JobSubmission,
  type LlmJobData,
  type ModelCatalog,
} from '@llmq/core';
import { tenantOf } from '../auth.js';
import type { JobPolicy } from '../config.js';
import type { Idempotency, IdempotentStart } from '../idempotency/idempotent-submission.js';
import { createJobAcceptor } from '../job-acceptance.js';
import { createJobCanceller } from '../job-cancel.js';
import { HttpError } from '../http-error.js';
import type { JobEvents } from '../job-events.js';

export interface JobsRoutesOptions {
  queue: Queue<LlmJobData>;
  store: JobStore;
  events: JobEvents;
  catalog: ModelCatalog;
  /** Output tokens reserved for a request without max_tokens. */
  defaultOutputTokens: number;
  jobPolicy: JobPolicy;
  /** Publishes cancel signals. */
  redis: Redis;
  /** Submit-time check of `webhook.url`: the problem, or null. Default: none. */
  webhookUrlProblem?: (url: string) => string | null;
  /** `Idempotency-Key` handling of `POST /v1/jobs` and `POST /v1/jobs/batch`. Default: none (the header is ignored). */
  idempotency?: Idempotency;
  /** Monthly budgets: reserved at submit (402 `budget_exceeded` when over), released on cancel. Default: none. */
  budget?: BudgetGuard;
  /** The limiter, so a job canceled while parked gives its reserved slot back. Default: none (the slot refills within a minute). */
  limiter?: { limiter: RateLimiter; rules: LimitRules };
  /** Whether `cache.mode: "semantic"` can be served (config `cache.semantic`). Default: true. */
  semanticCache?: boolean;
}

/** Longest `?wait=` a client may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 60;

/** Most jobs one `POST /v1/jobs/batch` may carry. */
export const MAX_BATCH = 1_000;

/** Query of `GET /v1/jobs/{id}` (also the OpenAPI document's). */
export const getQuerySchema = z.strictObject({
  // Every check names its own bound: a schema-wide message would be used for all of them.
  wait: z.coerce
    .number({ error: `must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}` })
    .min(0, 'must be at least 0')
    .max(MAX_WAIT_SECONDS, `must be at most ${MAX_WAIT_SECONDS}`)
    .optional(),
});

/** Query of `GET /v1/jobs`. */
export const listQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 100' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100')
    .default(20),
  status: z.enum(JOB_STATUSES, { error: `must be one of ${JOB_STATUSES.join(', ')}` }).optional(),
  after: z.string().refine(isJobId, 'must be a job id from a previous page').optional(),
});

/** The query parameters of `GET /v1/jobs` and `GET /v1/jobs/{id}` that are numbers. */
const NUMERIC_PARAMETERS = new Set(['limit', 'wait']);
const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * The query, parsed by `schema`. A repeated parameter is refused by name; a number not written
 * in decimal goes to the schema as not a number, since coercion reads `''` as 0 and `0x10` as 16.
 */
function parseQuery<T extends z.ZodType>(schema: T, request: Request): z.infer<T> {
  const query: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.query)) {
    if (Array.isArray(value)) throw new HttpError(400, 'invalid_request', `query: ${name}: must be given once`);
    query[name] = NUMERIC_PARAMETERS.has(name) && typeof value === 'string' && !DECIMAL.test(value) ? 'NaN' : value;
  }
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    throw new HttpError(400, 'invalid_request', `query: ${formatValidationError(parsed.error)}`);
  }
  return parsed.data;
}

/** Body of `POST /v1/jobs/batch`, around the deployment's submission schema. */
export function createBatchSchema<T extends z.ZodType>(submissionSchema: T) {
  return z.strictObject({
    jobs: z.array(submissionSchema).min(1, 'must hold at least one job').max(MAX_BATCH, `at most ${MAX_BATCH} jobs`),
  });
}

const notFound = (id: string) => new HttpError(404, 'not_found', `no job with id "${id}"`);

export function jobsRoutes(options: JobsRoutesOptions): Router {
  const { queue, store, events } = options;
  const submissionSchema = createJobSubmissionSchema(options.catalog, {
    webhookUrlProblem: options.webhookUrlProblem,
    ...(options.semanticCache !== undefined ? { semanticCache: options.semanticCache } : {}),
  });
  const router = Router();
  const cancelJob = createJobCanceller({
    store,
    queue,
    redis: options.redis,
    ...(options.budget ? { budget: options.budget } : {}),
    ...(options.limiter ? { limiter: options.limiter } : {}),
  });

  const accept = createJobAcceptor({
    queue,
    store,
    catalog: options.catalog,
    defaultOutputTokens: options.defaultOutputTokens,
    jobPolicy: options.jobPolicy,
    ...(options.budget ? { budget: options.budget } : {}),
  });

  /** `accept` under an Idempotency-Key this request holds: a failure frees the key, a success keeps it. */
  const acceptOnce = async (
    tenant: string,
    submissions: JobSubmission[],
    idempotent: Extract<IdempotentStart, { kind: 'new' }> | undefined,
  ): Promise<JobRecord[]> => {
    let records: JobRecord[];
    try {
      records = await accept(tenant, submissions, idempotent?.jobIds);
    } catch (error) {
      await idempotent?.release().catch(() => undefined);
      throw error;
    }
    await idempotent?.complete();
    return records;
  };

  const requireJson = (request: Request) => {
    if (!request.is('application/json')) {
      throw new HttpError(415, 'unsupported_media_type', 'send the job as JSON with "Content-Type: application/json"');
    }
  };

  router.post('/v1/jobs', async (request, response) => {
    const tenant = tenantOf(request);
    requireJson(request);
    const parsed = submissionSchema.safeParse(request.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', formatValidationError(parsed.error));
    const idempotent = await options.idempotency?.begin({
      tenant,
      key: request.get('idempotency-key'),
      body: request.body,
    });
    if (idempotent?.kind === 'replay') {
      const [replayed] = idempotent.records;
      if (replayed === undefined) throw new HttpError(503, 'unavailable', 'the job could not be read; retry');
      response.locals.jobId = replayed.id;
      response.status(202).location(`/v1/jobs/${replayed.id}`).set('idempotent-replayed', 'true');
      response.json(toJobObject(replayed));
      return;
    }
    const [record] = await acceptOnce(tenant, [parsed.data], idempotent);
    if (record === undefined) throw new HttpError(503, 'unavailable', 'the job could not be accepted');
    response.locals.jobId = record.id;
    response.status(202).location(`/v1/jobs/${record.id}`).json(toJobObject(record));
  });

  // Up to MAX_BATCH jobs in one request: all valid and all accepted, or none.
  const batchSchema = createBatchSchema(submissionSchema);
  router.post('/v1/jobs/batch', async (request, response) => {
    const tenant = tenantOf(request);
    requireJson(request);
    const parsed = batchSchema.safeParse(request.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', formatValidationError(parsed.error));
    const idempotent = await options.idempotency?.begin({
      tenant,
      key: request.get('idempotency-key'),
      body: request.body,
      jobs: parsed.data.jobs.length,
    });
    if (idempotent?.kind === 'replay') {
      response.status(202).set('idempotent-replayed', 'true');
      response.json({ object: 'list', data: idempotent.records.map(toJobObject) });
      return;
    }
    const records = await acceptOnce(tenant, parsed.data.jobs, idempotent);
    request.log.info({ jobs: records.length }, 'batch accepted');
    response.status(202).json({ object: 'list', data: records.map(toJobObject) });
  });

  router.get('/v1/jobs/:id', async (request, response) => {
    const tenant = tenantOf(request);
    const { id } = request.params;
    const query = parseQuery(getQuerySchema, request);
    if (!isJobId(id)) throw notFound(id);
    const waitMs = Math.round((query.wait ?? 0) * 1000);
    let stopListening = () => {};
    const ended = new Promise<void>((resolve) => {
      if (waitMs === 0) return resolve();
      // Listen before reading, so an end that lands between the two is not missed.
      const timer = setTimeout(resolve, waitMs);
      const off = events.on(tenant, id, (event) => {
        if (isEnded(event.status)) resolve();
      });
      const onClose = () => resolve();
      request.once('close', onClose);
      stopListening = () => {
        clearTimeout(timer);
        off();
        request.off('close', onClose);
      };
    });
    try {
      let record = await store.get(tenant, id);
      if (record === null) throw notFound(id);
      if (waitMs > 0 && !isEnded(record.status)) {
        await ended;
        record = (await store.get(tenant, id)) ?? record;
      }
      request.log.debug({ jobId: id, status: record.status }, 'job read');
      response.json(toJobObject(record));
    } finally {
      stopListening();
    }
  });

  router.delete('/v1/jobs/:id', async (request, response) => {
    const tenant = tenantOf(request);
    const { id } = request.params;
    if (!isJobId(id)) throw notFound(id);
    const canceled = await cancelJob(tenant, id);
    if (canceled.outcome === 'missing') throw notFound(id);
    if (canceled.outcome === 'conflict') {
      throw new HttpError(409, 'conflict', `job "${id}" has already ended (${canceled.current})`, {
        status: canceled.current,
      });
    }
    request.log.info({ jobId: id }, 'job canceled');
    const record = await store.get(tenant, id);
    if (record === null) throw notFound(id);
    response.json(toJobObject(record));
  });

  router.get('/v1/jobs', async (request, response) => {
    const tenant = tenantOf(request);
    const query = parseQuery(listQuerySchema, request);
    const page = await store.list({ tenant, status: query.status, after: query.after, limit: query.limit });
    const data = page.records.map(toJobObject);
    response.json({
      object: 'list',
      data,
      has_more: page.hasMore,
      next_cursor: page.hasMore ? (data[data.length - 1]?.id ?? null) : null,
    });
  });

  return router;
}
