import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { BatchContext, BatchExchange, BatchReply, BatchRoute } from './batch-routing.js';
import type { BatchStore } from './batch-store.js';
import { GeminiBatch, type GeminiBatchKind, type GeminiInlineRequest } from './gemini-batch.js';
import { googleError, invalidArgument, notFound } from './gemini-errors.js';
import { geminiWire } from './gemini-routes.js';
import { requestViolation } from './gemini-validation-error.js';
import { readObjectWithLargeArray } from './json-array-reader.js';

/** Bytes of inline requests one batch may carry, as the Gemini API documents (20 MB). */
export const MAX_GEMINI_INLINE_BATCH_BYTES = 20 * 1024 * 1024;
const CREATE_PATH = /^\/v1beta\/models\/([^/:]+):(batchGenerateContent|asyncBatchEmbedContent)$/;
const BATCH_PATH = /^\/v1beta\/batches\/([^/:]+)(:cancel)?$/;
const REQUESTS_PATH = ['batch', 'inputConfig', 'requests', 'requests'];
const BATCH_FIELDS = new Set(['displayName', 'inputConfig', 'model', 'priority', 'webhookConfig']);
/** Requests checked between yields to the event loop. */
const REQUESTS_PER_CHUNK = 1000;

function reply(json: unknown): BatchReply {
  return { status: 200, json, headers: {} };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownName(name: string, at: string) {
  const message = `Invalid JSON payload received. Unknown name "${name}" at '${at}': Cannot find field.`;
  return invalidArgument(message, [{ field: at, description: message }]);
}

async function inlineRequests(elements: readonly unknown[], requestName: string): Promise<GeminiInlineRequest[]> {
  const requests: GeminiInlineRequest[] = [];
  for (const [index, element] of elements.entries()) {
    if (index % REQUESTS_PER_CHUNK === 0 && index > 0) await yieldToEventLoop();
    const path = ['batch', 'inputConfig', 'requests', 'requests', index];
    const at = `batch.input_config.requests.requests[${index}]`;
    if (!isObject(element)) throw invalidArgument(`Invalid value at '${at}', ${JSON.stringify(element) ?? 'null'}`);
    const extra = Object.keys(element).find((key) => key !== 'request' && key !== 'metadata');
    if (extra !== undefined) throw unknownName(extra, at);
    if (!isObject(element.request))
      throw requestViolation(requestName, [...path, 'request'], 'request is not specified');
    if (element.metadata !== undefined && !isObject(element.metadata)) {
      throw invalidArgument(`Invalid value at '${at}.metadata' (type.googleapis.com/google.protobuf.Struct)`);
    }
    requests.push({ request: element.request, metadata: element.metadata });
  }
  return requests;
}

async function create(context: BatchContext, batches: BatchStore<GeminiBatch>, exchange: BatchExchange) {
  const match = CREATE_PATH.exec(exchange.pathname);
  const model = decodeURIComponent(match?.[1] ?? '');
  const kind: GeminiBatchKind = match?.[2] === 'asyncBatchEmbedContent' ? 'embedContent' : 'generateContent';
  const requestName = kind === 'embedContent' ? 'AsyncBatchEmbedContentRequest' : 'BatchGenerateContentRequest';
  const body = await exchange.readBody(MAX_GEMINI_INLINE_BATCH_BYTES);
  const read = await readObjectWithLargeArray(body, REQUESTS_PATH, {
    maxElements: Number.MAX_SAFE_INTEGER,
    maxValueBytes: MAX_GEMINI_INLINE_BATCH_BYTES,
  });
  if (!read.ok) throw geminiWire.renderFailure({ kind: 'invalid_json' });
  const extra = Object.keys(read.members).find((key) => key !== 'batch');
  if (extra !== undefined) throw unknownName(extra, '');
  const batch = read.members.batch;
  if (!isObject(batch)) throw requestViolation(requestName, ['batch'], 'batch is not specified');
  const batchExtra = Object.keys(batch).find((key) => !BATCH_FIELDS.has(key));
  if (batchExtra !== undefined) throw unknownName(batchExtra, 'batch');
  const inputConfig = batch.inputConfig;
  if (!isObject(inputConfig))
    throw requestViolation(requestName, ['batch', 'inputConfig'], 'input_config is not specified');
  if (inputConfig.fileName !== undefined || inputConfig.file_name !== undefined) {
    throw invalidArgument('The simulator runs inline requests only: put the requests in input_config.requests.');
  }
  if (read.elements.length === 0) {
    throw requestViolation(requestName, REQUESTS_PATH, 'requests must not be empty');
  }
  const requests = await inlineRequests(read.elements, requestName);
  const displayName = typeof batch.displayName === 'string' ? batch.displayName : '';
  const created = new GeminiBatch({ kind, model, displayName, requests }, context);
  if (!batches.add(created)) {
    created.dispose();
    throw googleError(429, 'RESOURCE_EXHAUSTED', 'Too many batches in progress: wait for some to end.');
  }
  return reply(created.toJSON());
}

function list(batches: BatchStore<GeminiBatch>, exchange: BatchExchange): BatchReply {
  const rawSize = exchange.query.get('pageSize');
  const pageSize = rawSize === null ? 50 : Math.min(Number(rawSize), 1000);
  if (!Number.isInteger(pageSize) || pageSize < 1) throw invalidArgument(`Invalid value for pageSize: ${rawSize}`);
  const all = batches.newestFirst();
  const token = exchange.query.get('pageToken');
  const start = token === null || token === '' ? 0 : all.findIndex((batch) => batch.id === token);
  if (start === -1) throw invalidArgument('Invalid page token.');
  const page = all.slice(start, start + pageSize);
  const next = all[start + pageSize];
  return reply({ operations: page.map((batch) => batch.toJSON()), ...(next ? { nextPageToken: next.id } : {}) });
}

/** Gemini Batch Mode with inline requests: create (generate or embed), get, list, cancel, delete. */
export function geminiBatchRoutes(context: BatchContext, batches: BatchStore<GeminiBatch>): BatchRoute[] {
  return [
    {
      wire: geminiWire,
      matches: (method, pathname) => method === 'POST' && CREATE_PATH.test(pathname),
      handle: (exchange) => create(context, batches, exchange),
    },
    {
      wire: geminiWire,
      matches: (method, pathname) => method === 'GET' && pathname === '/v1beta/batches',
      handle: async (exchange) => list(batches, exchange),
    },
    {
      wire: geminiWire,
      matches: (method, pathname) => {
        const cancel = BATCH_PATH.exec(pathname)?.[2] !== undefined;
        return BATCH_PATH.test(pathname) && (cancel ? method === 'POST' : method === 'GET' || method === 'DELETE');
      },
      async handle(exchange) {
        const match = BATCH_PATH.exec(exchange.pathname);
        const id = decodeURIComponent(match?.[1] ?? '');
        const batch = batches.get(id);
        if (batch === undefined) throw notFound(`Batch batches/${id} not found.`);
        if (match?.[2] === ':cancel') {
          batch.cancel();
          return reply({});
        }
        if (exchange.method === 'DELETE') {
          batches.delete(id);
          return reply({});
        }
        return reply(batch.toJSON());
      },
    },
  ];
}
