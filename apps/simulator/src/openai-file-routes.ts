import { randomBytes } from 'node:crypto';
import { pageAfter } from './batch-store.js';
import type { BatchExchange, BatchReply, BatchRoute } from './batch-routing.js';
import { MAX_OPENAI_BATCH_FILE_BYTES } from './openai-batch-input.js';
import { invalidRequest, openAIError } from './openai-errors.js';
import type { OpenAIFileStore } from './openai-file-store.js';
import { openAIWire } from './openai-routes.js';
import { multipartBoundary, MultipartError, parseMultipartForm } from './multipart-form.js';
import type { WireError } from './wire-error.js';

/** Purposes `POST /v1/files` accepts, as the API lists them. */
const FILE_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'];
/** Room for the multipart framing and the purpose field around a 200 MB file. */
const FORM_OVERHEAD_BYTES = 64 * 1024;
const FILE_PATH = /^\/v1\/files\/([^/]+)$/;
const FILE_CONTENT_PATH = /^\/v1\/files\/([^/]+)\/content$/;

export function openAIHeaders(): Record<string, string> {
  return { 'x-request-id': `req_${randomBytes(16).toString('hex')}`, 'openai-version': '2020-10-01' };
}

export function openAIJson(json: unknown, status = 200): BatchReply {
  return { status, json, headers: openAIHeaders() };
}

export function noSuchObject(kind: string, id: string): WireError {
  return openAIError(404, { message: `No such ${kind} object: ${id}`, type: 'invalid_request_error', param: 'id' });
}

/** `limit` and `after` of a cursor-paged list, checked as the API checks them. */
export function listQuery(exchange: BatchExchange, defaultLimit: number): { limit: number; after: string | null } {
  const raw = exchange.query.get('limit');
  const limit = raw === null ? defaultLimit : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw invalidRequest(`Invalid 'limit': expected an integer between 1 and 10000.`, 'limit', 'invalid_value');
  }
  return { limit, after: exchange.query.get('after') };
}

async function upload(files: OpenAIFileStore, exchange: BatchExchange): Promise<BatchReply> {
  const boundary = multipartBoundary(exchange.headers['content-type']);
  if (boundary === undefined) throw invalidRequest('The request must be multipart/form-data.');
  const body = await exchange.readBody(MAX_OPENAI_BATCH_FILE_BYTES + FORM_OVERHEAD_BYTES);
  let form;
  try {
    form = parseMultipartForm(body, boundary);
  } catch (error) {
    if (error instanceof MultipartError) throw invalidRequest(`Invalid multipart body: ${error.message}.`);
    throw error;
  }
  const purpose = form.get('purpose')?.data.toString('utf8');
  const file = form.get('file');
  if (purpose === undefined)
    throw invalidRequest("Missing required parameter: 'purpose'.", 'purpose', 'missing_required_parameter');
  if (!FILE_PURPOSES.includes(purpose)) {
    throw invalidRequest(`Invalid value for purpose: '${purpose}'.`, 'purpose', 'invalid_value');
  }
  if (file === undefined)
    throw invalidRequest("Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
  const filename = file.filename ?? 'upload';
  if (purpose === 'batch' && !filename.endsWith('.jsonl')) {
    throw invalidRequest('Invalid file format for Batch API. Must be .jsonl', 'file');
  }
  if (purpose === 'batch' && file.data.length > MAX_OPENAI_BATCH_FILE_BYTES) {
    throw invalidRequest(
      `File is too large for the Batch API: the limit is ${MAX_OPENAI_BATCH_FILE_BYTES} bytes.`,
      'file',
    );
  }
  // A copy, so the stored file does not pin the whole request body.
  return openAIJson(files.add(Buffer.from(file.data), { filename, purpose }));
}

function list(files: OpenAIFileStore, exchange: BatchExchange): BatchReply {
  const { limit, after } = listQuery(exchange, 10_000);
  const purpose = exchange.query.get('purpose');
  const ordered = files.newestFirst().filter((file) => purpose === null || file.purpose === purpose);
  if (exchange.query.get('order') === 'asc') ordered.reverse();
  const { page, hasMore } = pageAfter(ordered, after, limit);
  return openAIJson({
    object: 'list',
    data: page,
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
    has_more: hasMore,
  });
}

/** The Files API: upload (multipart), list, retrieve, content, delete. */
export function openAIFileRoutes(files: OpenAIFileStore): BatchRoute[] {
  return [
    {
      wire: openAIWire,
      matches: (method, pathname) => pathname === '/v1/files' && (method === 'POST' || method === 'GET'),
      handle: async (exchange) => (exchange.method === 'POST' ? upload(files, exchange) : list(files, exchange)),
    },
    {
      wire: openAIWire,
      matches: (method, pathname) => (method === 'GET' || method === 'DELETE') && FILE_PATH.test(pathname),
      async handle(exchange) {
        const id = decodeURIComponent(FILE_PATH.exec(exchange.pathname)?.[1] ?? '');
        const file = files.get(id);
        if (file === undefined) throw noSuchObject('File', id);
        if (exchange.method === 'GET') return openAIJson(file);
        files.delete(id);
        return openAIJson({ id, object: 'file', deleted: true });
      },
    },
    {
      wire: openAIWire,
      matches: (method, pathname) => method === 'GET' && FILE_CONTENT_PATH.test(pathname),
      async handle(exchange) {
        const id = decodeURIComponent(FILE_CONTENT_PATH.exec(exchange.pathname)?.[1] ?? '');
        const content = files.content(id);
        if (content === undefined) throw noSuchObject('File', id);
        return { status: 200, raw: content, contentType: 'application/octet-stream', headers: openAIHeaders() };
      },
    },
  ];
}
