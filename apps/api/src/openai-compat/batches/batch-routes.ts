import { Router, type Request } from 'express';
import { z } from 'zod';
import { formatValidationError, type JobStore, type JobSubmission } from '@llmq/core';
import { tenantOf } from '../../auth.js';
import { HttpError } from '../../http-error.js';
import { createJobAcceptor, type JobAcceptorOptions } from '../../job-acceptance.js';
import { createJobCanceller, type JobCancelOptions } from '../../job-cancel.js';
import type { BatchFileStore } from './batch-file-store.js';
import { readBatchLines } from './batch-lines.js';
import { batchCreateSchema, batchObjectSchema, createBatchId, isBatchId, type BatchObject } from './batch-object.js';
import { refreshBatch } from './batch-progress.js';
import type { BatchLineRef, BatchStore } from './batch-store.js';

export interface BatchRoutesOptions {
  files: BatchFileStore;
  batches: BatchStore;
  store: JobStore;
  /** How unfinished jobs are canceled: the one cancel path `DELETE /v1/jobs/{id}` takes too. */
  cancellation: JobCancelOptions;
  /** How the lines' jobs are accepted: the one submission path every job-creating route takes. */
  acceptance: JobAcceptorOptions;
  submissionSchema: z.ZodType<JobSubmission>;
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
const seconds = (ms: number) => Math.floor(ms / 1000);
/** How long a batch's jobs may take: its completion window. */
const WINDOW_MS = 24 * 3600 * 1000;

/** OpenAI's Batch API over llmq jobs: each line of the input file becomes a job of the tenant. */
export function batchRoutes(options: BatchRoutesOptions): Router {
  const { files, batches, store } = options;
  const router = Router();
  const cancelJob = createJobCanceller(options.cancellation);
  const accept = createJobAcceptor(options.acceptance);
  const refresh = (tenant: string, batch: BatchObject) => refreshBatch({ tenant, batch, batches, store, files });

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
    const pieces = file?.purpose === 'batch' ? await files.content(tenant, body.input_file_id) : null;
    if (file === null || pieces === null) {
      throw new HttpError(400, 'invalid_request', `input_file_id: no batch input file with id "${body.input_file_id}"`);
    }
    const chunks: Buffer[] = [];
    for await (const piece of pieces) chunks.push(piece);
    const now = Date.now();
    const batch: BatchObject = {
      id: createBatchId(now),
      object: 'batch',
      endpoint: body.endpoint,
      errors: null,
      input_file_id: file.id,
      completion_window: '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: seconds(now),
      in_progress_at: null,
      expires_at: seconds(now + WINDOW_MS),
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: body.metadata ?? null,
    };
    const read = await readBatchLines({
      content: Buffer.concat(chunks),
      endpoint: body.endpoint,
      submissionSchema: options.submissionSchema,
    });
    if (read.errors.length > 0 || read.lines.length === 0) {
      const errors =
        read.errors.length > 0
          ? read.errors
          : [{ code: 'empty_file', message: 'the input file holds no requests', param: null, line: null }];
      const failed: BatchObject = {
        ...batch,
        status: 'failed',
        failed_at: seconds(Date.now()),
        errors: { object: 'list', data: errors },
      };
      await batches.create(tenant, failed, []);
      response.json(failed);
      return;
    }
    const valid = read.lines.flatMap((line) => ('submission' in line ? [line] : []));
    // All of the batch's jobs are accepted, or none (a 402 or 503 then answers for the batch).
    const records =
      valid.length > 0
        ? await accept(
            tenant,
            valid.map((line) => line.submission),
          )
        : [];
    const jobIds = new Map(valid.map((line, index) => [line.line, records[index]?.id]));
    const refs: BatchLineRef[] = read.lines.map((line) => {
      const jobId = jobIds.get(line.line);
      return 'problem' in line || jobId === undefined
        ? { customId: line.customId, problem: 'problem' in line ? line.problem : 'not accepted' }
        : { customId: line.customId, jobId };
    });
    const started: BatchObject = {
      ...batch,
      status: 'in_progress',
      in_progress_at: seconds(Date.now()),
      request_counts: { total: refs.length, completed: 0, failed: refs.length - valid.length },
    };
    await batches.create(tenant, started, refs);
    response.json(await refresh(tenant, started));
  });

  router.get('/v1/batches/:id', async (request, response) => {
    const tenant = tenantOf(request);
    const batch = await batches.get(tenant, request.params.id);
    if (batch === null) throw notFound(request.params.id);
    response.json(await refresh(tenant, batch));
  });

  router.get('/v1/batches', async (request, response) => {
    const tenant = tenantOf(request);
    const parsed = batchListQuerySchema.safeParse(singleQuery(request));
    if (!parsed.success) throw new HttpError(400, 'invalid_request', `query: ${formatValidationError(parsed.error)}`);
    const ids = await batches.ids(tenant, parsed.data.limit + 1, parsed.data.after);
    const found = await Promise.all(ids.slice(0, parsed.data.limit).map((id) => batches.get(tenant, id)));
    const data = found.flatMap((batch) => (batch === null ? [] : [batch]));
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
    if (batch.status !== 'in_progress' && batch.status !== 'validating') {
      if (batch.status === 'cancelling' || batch.status === 'cancelled') {
        response.json(await refresh(tenant, batch));
        return;
      }
      throw new HttpError(409, 'conflict', `batch "${batch.id}" has already ended (${batch.status})`);
    }
    const cancelling: BatchObject = { ...batch, status: 'cancelling', cancelling_at: seconds(Date.now()) };
    await batches.save(tenant, cancelling);
    // Every job not yet ended is canceled as DELETE /v1/jobs/{id} cancels one.
    for (;;) {
      const pending = await batches.pendingSample(tenant, batch.id, 500);
      let changed = 0;
      for (const jobId of pending) {
        const canceled = await cancelJob(tenant, jobId);
        if (canceled.outcome === 'ok') await batches.settle(tenant, batch.id, jobId, 'failed');
        else {
          // Ended (or gone) before the cancel reached it: counted by how it ended.
          const record = await store.get(tenant, jobId);
          await batches.settle(tenant, batch.id, jobId, record?.status === 'succeeded' ? 'completed' : 'failed');
        }
        changed += 1;
      }
      if (changed === 0) break;
    }
    response.json(await refresh(tenant, cancelling));
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
