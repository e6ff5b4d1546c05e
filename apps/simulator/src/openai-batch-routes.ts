import { OpenAIBatch } from './openai-batch.js';
import { OPENAI_BATCH_ENDPOINTS, type OpenAIBatchEndpoint } from './openai-batch-lines.js';
import type { BatchContext, BatchExchange, BatchReply, BatchRoute } from './batch-routing.js';
import { type BatchStore, pageAfter } from './batch-store.js';
import { invalidRequest, openAIError } from './openai-errors.js';
import { listQuery, noSuchObject, openAIJson } from './openai-file-routes.js';
import type { OpenAIFileStore } from './openai-file-store.js';
import { openAIWire } from './openai-routes.js';

/** Largest `POST /v1/batches` body: a few ids and up to 16 metadata pairs. */
const MAX_CREATE_BODY_BYTES = 64 * 1024;
const BATCH_PATH = /^\/v1\/batches\/([^/]+)$/;
const CANCEL_PATH = /^\/v1\/batches\/([^/]+)\/cancel$/;

function isEndpoint(value: unknown): value is OpenAIBatchEndpoint {
  return (OPENAI_BATCH_ENDPOINTS as readonly unknown[]).includes(value);
}

function metadataOf(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  const entries = typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : undefined;
  const valid =
    entries !== undefined &&
    entries.length <= 16 &&
    entries.every(([key, text]) => key.length <= 64 && typeof text === 'string' && text.length <= 512);
  if (!valid) {
    throw invalidRequest(
      "Invalid 'metadata': at most 16 pairs of string keys (64 characters) and string values (512 characters).",
      'metadata',
      'invalid_value',
    );
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

export interface OpenAIBatchServices {
  context: BatchContext;
  files: OpenAIFileStore;
  batches: BatchStore<OpenAIBatch>;
}

async function create(services: OpenAIBatchServices, exchange: BatchExchange): Promise<BatchReply> {
  const body = await exchange.readJson(MAX_CREATE_BODY_BYTES);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidRequest('The body must be a JSON object.');
  const fields = body as Record<string, unknown>;
  for (const param of ['input_file_id', 'endpoint', 'completion_window']) {
    if (fields[param] === undefined) {
      throw invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
    }
  }
  const { input_file_id: inputFileId, endpoint, completion_window: completionWindow } = fields;
  if (!isEndpoint(endpoint)) {
    const supported = OPENAI_BATCH_ENDPOINTS.map((value) => `'${value}'`).join(', ');
    throw invalidRequest(
      `Invalid value: '${String(endpoint)}'. Supported values are: ${supported}.`,
      'endpoint',
      'invalid_value',
    );
  }
  if (completionWindow !== '24h') {
    throw invalidRequest(
      `Invalid value: '${String(completionWindow)}'. Supported values are: '24h'.`,
      'completion_window',
      'invalid_value',
    );
  }
  const metadata = metadataOf(fields.metadata);
  const file = typeof inputFileId === 'string' ? services.files.get(inputFileId) : undefined;
  const content = typeof inputFileId === 'string' ? services.files.content(inputFileId) : undefined;
  if (file === undefined || content === undefined) throw noSuchObject('File', String(inputFileId));
  if (file.purpose !== 'batch') {
    throw invalidRequest(
      `The input file ${file.id} must be uploaded with purpose 'batch'.`,
      'input_file_id',
      'invalid_value',
    );
  }
  const batch = new OpenAIBatch({
    endpoint,
    inputFileId: file.id,
    content,
    metadata,
    context: services.context,
    files: services.files,
    enqueuedElsewhere: (model, self) =>
      services.batches
        .newestFirst()
        .reduce((sum, other) => (other === self ? sum : sum + other.enqueuedTokensOf(model)), 0),
  });
  if (!services.batches.add(batch)) {
    batch.dispose();
    throw openAIError(429, {
      message: 'Too many batches in progress: wait for some to end before creating more.',
      type: 'invalid_request_error',
      code: 'batch_limit_exceeded',
    });
  }
  return openAIJson(batch.toJSON());
}

/** The Batch API: create, retrieve, cancel, list (newest first, `after` cursor). */
export function openAIBatchRoutes(services: OpenAIBatchServices): BatchRoute[] {
  const find = (id: string): OpenAIBatch => {
    const batch = services.batches.get(id);
    if (batch === undefined) throw noSuchObject('Batch', id);
    return batch;
  };
  return [
    {
      wire: openAIWire,
      matches: (method, pathname) => pathname === '/v1/batches' && (method === 'POST' || method === 'GET'),
      async handle(exchange) {
        if (exchange.method === 'POST') return create(services, exchange);
        const { limit, after } = listQuery(exchange, 20);
        const all = services.batches.newestFirst().map((batch) => batch.toJSON());
        const { page, hasMore } = pageAfter(all, after, limit);
        return openAIJson({
          object: 'list',
          data: page,
          first_id: page[0]?.id ?? null,
          last_id: page.at(-1)?.id ?? null,
          has_more: hasMore,
        });
      },
    },
    {
      wire: openAIWire,
      matches: (method, pathname) => method === 'GET' && BATCH_PATH.test(pathname),
      handle: async (exchange) =>
        openAIJson(find(decodeURIComponent(BATCH_PATH.exec(exchange.pathname)?.[1] ?? '')).toJSON()),
    },
    {
      wire: openAIWire,
      matches: (method, pathname) => method === 'POST' && CANCEL_PATH.test(pathname),
      async handle(exchange) {
        const batch = find(decodeURIComponent(CANCEL_PATH.exec(exchange.pathname)?.[1] ?? ''));
        const before = batch.toJSON().status;
        if (before !== 'validating' && before !== 'in_progress' && before !== 'cancelling') {
          throw openAIError(409, {
            message: `Cannot cancel a batch with status '${before}'.`,
            type: 'invalid_request_error',
          });
        }
        batch.cancel();
        return openAIJson(batch.toJSON());
      },
    },
  ];
}
