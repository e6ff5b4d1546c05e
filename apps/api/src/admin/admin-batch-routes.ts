import type { RequestHandler, Response } from 'express';
import { z } from 'zod';
import { CorruptJobRecordError, formatValidationError, type JobStore } from '@llmq/core';
import { HttpError } from '../http-error.js';
import { isBatchId } from '../openai-compat/batches/batch-object.js';
import type { BatchStore } from '../openai-compat/batches/batch-store.js';
import { readBatchPage } from './admin-batch-index.js';
import { batchListPage, batchPage, type BatchLineView } from './admin-batch-pages.js';
import { ADMIN_BOARD_PATH } from './admin-board.js';

export interface AdminBatchesOptions {
  batches: Pick<BatchStore, 'ids' | 'get' | 'lines'>;
  /** The tenants whose batches are listed: the config's (`LLMQ_API_KEYS`). */
  tenants: readonly string[];
}

const limit = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a whole number from 1 to 100' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100')
    .default(fallback);

/** Query of `GET /admin/batches`. */
export const adminBatchListQuerySchema = z.strictObject({
  after: z.string().refine(isBatchId, 'must be a batch id from a previous page').optional(),
  limit: limit(50),
});

/** Query of `GET /admin/batches/{tenant}/{id}`: the lines shown. */
export const adminBatchQuerySchema = z.strictObject({
  from: z.coerce.number({ error: 'must be a line index' }).int().min(0).max(50_000).default(0),
  limit: limit(50),
});

function parseQuery<T>(schema: z.ZodType<T>, query: unknown): T {
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw new HttpError(400, 'invalid_request', formatValidationError(parsed.error));
  return parsed.data;
}

const sendPage = (response: Response, html: string) =>
  response.set('cache-control', 'no-store').type('html').send(html);

/**
 * The read-only batches pages of the dashboard: every tenant's batches, and one batch with its
 * lines, each line's job linked to bull-board's page of the job. The caller puts them behind the
 * admin login.
 */
export function adminBatchHandlers(options: AdminBatchesOptions & { store: JobStore; llmQueueName: string }): {
  list: RequestHandler;
  batch: RequestHandler;
} {
  const { batches, store } = options;
  const jobPath = (jobId: string) =>
    `${ADMIN_BOARD_PATH}/queue/${encodeURIComponent(options.llmQueueName)}/${encodeURIComponent(jobId)}`;

  const jobStatus = async (tenant: string, jobId: string) => {
    try {
      return (await store.get(tenant, jobId))?.status ?? 'no record';
    } catch (error) {
      if (error instanceof CorruptJobRecordError) return 'no record';
      throw error;
    }
  };

  const list: RequestHandler = async (request, response) => {
    const query = parseQuery(adminBatchListQuerySchema, request.query);
    const page = await readBatchPage({ batches, tenants: options.tenants, limit: query.limit, after: query.after });
    sendPage(response, batchListPage({ page: page.batches, next: page.next, limit: query.limit }));
  };

  const batch: RequestHandler = async (request, response) => {
    const { tenant, id } = request.params as { tenant: string; id: string };
    const query = parseQuery(adminBatchQuerySchema, request.query);
    const found = await batches.get(tenant, id);
    if (found === null) throw new HttpError(404, 'not_found', `no batch with id "${id}" for that tenant`);
    const refs = await batches.lines(tenant, id, query.from, query.limit);
    const lines = await Promise.all(
      refs.map(async (line, position): Promise<BatchLineView> => {
        const index = query.from + position;
        return 'jobId' in line
          ? { index, customId: line.customId, jobId: line.jobId, status: await jobStatus(tenant, line.jobId) }
          : { index, customId: line.customId, problem: line.problem };
      }),
    );
    sendPage(response, batchPage({ tenant, batch: found, lines, jobPath, from: query.from, limit: query.limit }));
  };

  return { list, batch };
}
