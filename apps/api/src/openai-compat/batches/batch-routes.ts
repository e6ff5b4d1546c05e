import { Router, type Request } from 'express';
import { z } from 'zod';
import { formatValidationError, type BatchLines, type JobStore, type JobSubmission, type Logger } from '@llmq/core';
import { tenantOf } from '../../auth.js';
import type { JobPolicy } from '../../config.js';
import { HttpError } from '../../http-error.js';
import { createJobAcceptor, type JobAcceptorOptions } from '../../job-acceptance.js';
import { createJobCanceller, type JobCancelOptions } from '../../job-cancel.js';
import type { BatchMetrics } from '../../metrics/batch-metrics.js';
import type { BatchFileStore } from './batch-file-store.js';
import { batchCreateSchema, batchObjectSchema, isBatchId, newBatchObject } from './batch-object.js';
import { BatchRunner } from './batch-runner.js';
import type { BatchStore } from './batch-store.js';

export interface BatchRoutesOptions {
  files: BatchFileStore;
  batches: BatchStore;
  store: JobStore;
  /** How unfinished jobs are canceled: the one cancel path `DELETE /v1/jobs/{id}` takes too. */
  cancellation: JobCancelOptions;
  /** How the lines' jobs are accepted: the one submission path every job-creating route takes. */
  acceptance: JobAcceptorOptions & { jobPolicy: JobPolicy };
  submissionSchema: z.ZodType<JobSubmission>;
  metrics: BatchMetrics;
  logger: Logger;
  /** A batch's completion window, seconds: its jobs left unfinished after it are canceled (`expired`). Default 86,400. */
  windowSeconds?: number;
  /** How long a batch's work lock outlives a process that died holding it, ms. Default 30 s. */
  lockMs?: number;
  /** What each line becomes: a deferrable job (`defer`, the default) or an ordinary one (`run`). */
  lines?: BatchLines;
}

/** Query of `GET /v1/batches`. */
export const batchListQuerySchema = z.strictObject({
  after: z.string().refine(isBatchId, 'must be a batch id from a previous page').optional(),
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 100' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100')
    .default(20),
});

export const batchListSchema = z.strictObject({
  object: z.literal('list'),
  data: z.array(batchObjectSchema),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});

const notFound = (id: string) => new HttpError(404, 'not_found', `no batch with id "${id}"`);

/**
 * OpenAI's Batch API over llmq jobs: each line of the input file becomes a job of the tenant. The
 * routes answer at once; the batch's work (validation, acceptance in chunks, cancels, files) runs
 * in the background (BatchRunner), resumed by any read of the batch.
 */
export function batchRoutes(options: BatchRoutesOptions): Router {
  const { files, batches, store } = options;
  const router = Router();
  const windowMs = (options.windowSeconds ?? 86_400) * 1000;
  const runner = new BatchRunner({
    batches,
    files,
    store,
    acceptance: {
      ...options.acceptance,
      accept: createJobAcceptor(options.acceptance),
      redis: options.cancellation.redis,
    },
    cancelJob: createJobCanceller(options.cancellation),
    submissionSchema: options.submissionSchema,
    lines: options.lines ?? 'defer',
    metrics: options.metrics,
    logger: options.logger,
    ...(options.lockMs !== undefined ? { lockMs: options.lockMs } : {}),
  });
  /** The batch as stored, its outstanding work started (in the background) if none is running. */
  const read = async (tenant: string, id: string) => {
    const batch = await batches.get(tenant, id);
    if (batch === null) throw notFound(id);
    runner.kick(tenant, batch);
    return batch;
  };

  router.post('/v1/batches', async (request, response) => {
    const tenant = tenantOf(request);
    if (!request.is('application/json')) {
      throw new HttpError(
        415,
        'unsupported_media_type',
        'send the batch as JSON with "Content-Type: application/json"',
      );
    }
    const parsed = batchCreateSchema.safeParse(request.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', formatValidationError(parsed.error));
    const body = parsed.data;
    const file = await files.get(tenant, body.input_file_id);
    if (file?.purpose !== 'batch') {
      throw new HttpError(400, 'invalid_request', `input_file_id: no batch input file with id "${body.input_file_id}"`);
    }
    const now = Date.now();
    const batch = newBatchObject({
      endpoint: body.endpoint,
      inputFileId: file.id,
      metadata: body.metadata ?? null,
      createdAt: now,
      expiresAt: now + windowMs,
    });
    const choice = body.llmq?.provider_batches;
    await batches.create(tenant, batch, choice === undefined ? {} : { lines: choice ? 'defer' : 'run' });
    options.metrics.created(batch);
    runner.kick(tenant, batch);
    response.json(batch);
  });

  router.get('/v1/batches/:id', async (request, response) => {
    response.json(await read(tenantOf(request), request.params.id));
  });

  router.get('/v1/batches', async (request, response) => {
    const tenant = tenantOf(request);
    const parsed = batchListQuerySchema.safeParse(singleQuery(request));
    if (!parsed.success) throw new HttpError(400, 'invalid_request', `query: ${formatValidationError(parsed.error)}`);
    const ids = await batches.ids(tenant, parsed.data.limit + 1, parsed.data.after);
    const found = await Promise.all(ids.slice(0, parsed.data.limit).map((id) => batches.get(tenant, id)));
    const data = found.flatMap((batch) => (batch === null ? [] : [batch]));
    for (const batch of data) runner.kick(tenant, batch);
    response.json({
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: ids.length > parsed.data.limit,
    });
  });

  router.post('/v1/batches/:id/cancel', async (request, response) => {
    const tenant = tenantOf(request);
    const batch = await batches.get(tenant, request.params.id);
    if (batch === null) throw notFound(request.params.id);
    if (batch.status === 'cancelling' || batch.status === 'cancelled') {
      response.json(await read(tenant, batch.id));
      return;
    }
    if (batch.status !== 'in_progress' && batch.status !== 'validating') {
      throw new HttpError(409, 'conflict', `batch "${batch.id}" is ${batch.status}: there is nothing left to cancel`);
    }
    // Asked in a field of its own; the batch's work cancels its jobs in chunks (BatchRunner).
    await batches.requestCancel(tenant, batch.id, Date.now());
    response.json(await read(tenant, batch.id));
  });

  return router;
}

function singleQuery(request: Request): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.query)) {
    if (Array.isArray(value)) throw new HttpError(400, 'invalid_request', `query: ${name}: must be given once`);
    query[name] = name === 'limit' && typeof value === 'string' && !/^\d+$/.test(value) ? 'NaN' : value;
  }
  return query;
}
