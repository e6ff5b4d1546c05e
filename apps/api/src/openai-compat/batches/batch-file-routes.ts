import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { formatValidationError } from '@llmq/core';
import { tenantOf } from '../../auth.js';
import { HttpError } from '../../http-error.js';
import { batchFileSchema, isFileId, type BatchFileStore } from './batch-file-store.js';
import { readBatchFileUpload } from './batch-file-upload.js';

/** Most files one `GET /v1/files` page may hold, as OpenAI documents. */
export const MAX_FILES_PAGE = 10_000;

/** Query of `GET /v1/files` (also the OpenAPI document's). */
export const fileListQuerySchema = z.strictObject({
  after: z.string().refine(isFileId, 'must be a file id from a previous page').optional(),
  limit: z.coerce
    .number({ error: `must be a whole number from 1 to ${MAX_FILES_PAGE}` })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_FILES_PAGE, `must be at most ${MAX_FILES_PAGE}`)
    .default(MAX_FILES_PAGE),
  order: z.enum(['asc', 'desc'], { error: 'must be asc or desc' }).default('desc'),
  purpose: z.enum(['batch', 'batch_output'], { error: 'must be batch or batch_output' }).optional(),
});

/** `GET /v1/files`: OpenAI's cursor page. */
export const fileListSchema = z.strictObject({
  object: z.literal('list'),
  data: z.array(batchFileSchema),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});

/** `DELETE /v1/files/{id}`. */
export const fileDeletedSchema = z.strictObject({
  id: z.string(),
  object: z.literal('file'),
  deleted: z.literal(true),
});

const DECIMAL = /^\d+$/;

function parseListQuery(request: Request) {
  const query: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.query)) {
    if (Array.isArray(value)) throw new HttpError(400, 'invalid_request', `query: ${name}: must be given once`);
    // Coercion reads '' as 0 and 0x10 as 16: only decimal digits are a number here.
    query[name] = name === 'limit' && typeof value === 'string' && !DECIMAL.test(value) ? 'NaN' : value;
  }
  const parsed = fileListQuerySchema.safeParse(query);
  if (!parsed.success) throw new HttpError(400, 'invalid_request', `query: ${formatValidationError(parsed.error)}`);
  return parsed.data;
}

const notFound = (id: string) => new HttpError(404, 'not_found', `no file with id "${id}"`);

/** OpenAI's Files API for batch input and output: upload, list, read, delete; per tenant. */
export function batchFileRoutes(options: { files: BatchFileStore }): Router {
  const { files } = options;
  const router = Router();

  router.post('/v1/files', async (request, response) => {
    const tenant = tenantOf(request);
    const upload = await readBatchFileUpload(request);
    if (upload.purpose !== 'batch') {
      throw new HttpError(400, 'invalid_request', 'purpose: must be "batch" (the only purpose llmq accepts)');
    }
    if (upload.lines === 0) throw new HttpError(400, 'invalid_request', 'file: holds no requests (no lines)');
    const file = await files.create({
      tenant,
      filename: upload.filename,
      purpose: 'batch',
      content: upload.content,
      lines: upload.lines,
    });
    response.status(200).json(file);
  });

  router.get('/v1/files', async (request, response) => {
    const tenant = tenantOf(request);
    const query = parseListQuery(request);
    const page = await files.list({
      tenant,
      limit: query.limit,
      order: query.order,
      ...(query.after !== undefined ? { after: query.after } : {}),
      ...(query.purpose !== undefined ? { purpose: query.purpose } : {}),
    });
    response.json({
      object: 'list',
      data: page.files,
      first_id: page.files[0]?.id ?? null,
      last_id: page.files.at(-1)?.id ?? null,
      has_more: page.hasMore,
    });
  });

  router.get('/v1/files/:id', async (request, response) => {
    const file = await files.get(tenantOf(request), request.params.id);
    if (file === null) throw notFound(request.params.id);
    response.json(file);
  });

  router.get('/v1/files/:id/content', async (request, response) => {
    const content = await files.content(tenantOf(request), request.params.id);
    if (content === null) throw notFound(request.params.id);
    response.status(200).type('application/octet-stream');
    await pipeline(Readable.from(content), response);
  });

  router.delete('/v1/files/:id', async (request, response) => {
    const deleted = await files.delete(tenantOf(request), request.params.id);
    if (!deleted) throw notFound(request.params.id);
    response.json({ id: request.params.id, object: 'file', deleted: true });
  });

  return router;
}
