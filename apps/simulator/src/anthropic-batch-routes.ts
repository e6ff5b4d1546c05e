import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type AnthropicBatchRequest, AnthropicBatch, anthropicBatchHeaders } from './anthropic-batch.js';
import { anthropicError, anthropicInvalidRequest } from './anthropic-errors.js';
import { readAnthropicVersion } from './anthropic-messages-request.js';
import { anthropicWire } from './anthropic-routes.js';
import type { BatchContext, BatchExchange, BatchReply, BatchRoute } from './batch-routing.js';
import type { BatchStore } from './batch-store.js';
import { readObjectWithLargeArray } from './json-array-reader.js';
import type { WireError } from './wire-error.js';

/** Requests one Message Batch may hold, as Anthropic documents. */
export const MAX_ANTHROPIC_BATCH_REQUESTS = 100_000;
/** Bytes one create request may hold, as Anthropic documents (256 MB). */
export const MAX_ANTHROPIC_BATCH_BYTES = 256 * 1024 * 1024;
/** Bytes of one request's JSON at most: the Messages API's own 32 MB request limit. */
const MAX_REQUEST_BYTES = 32 * 1024 * 1024;
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/** Requests checked between yields to the event loop. */
const REQUESTS_PER_CHUNK = 1000;
const BATCH_PATH = /^\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?$/;

function reply(json: unknown): BatchReply {
  return { status: 200, json, headers: anthropicBatchHeaders() };
}

function notFound(id: string): WireError {
  return anthropicError(404, 'not_found_error', `Message batch ${id} not found.`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the requests as the API does at creation; their params are checked per request later. */
async function checkRequests(elements: readonly unknown[]): Promise<AnthropicBatchRequest[]> {
  const requests: AnthropicBatchRequest[] = [];
  const seen = new Set<string>();
  for (const [index, element] of elements.entries()) {
    if (index % REQUESTS_PER_CHUNK === 0 && index > 0) await yieldToEventLoop();
    const at = `requests.${index}`;
    if (!isObject(element)) throw anthropicInvalidRequest(`${at}: Input should be a valid dictionary`);
    const extra = Object.keys(element).find((key) => key !== 'custom_id' && key !== 'params');
    if (extra !== undefined) throw anthropicInvalidRequest(`${at}.${extra}: Extra inputs are not permitted`);
    const { custom_id: customId, params } = element;
    if (customId === undefined) throw anthropicInvalidRequest(`${at}.custom_id: Field required`);
    if (typeof customId !== 'string' || !CUSTOM_ID.test(customId)) {
      throw anthropicInvalidRequest(`${at}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`);
    }
    if (params === undefined) throw anthropicInvalidRequest(`${at}.params: Field required`);
    if (!isObject(params)) throw anthropicInvalidRequest(`${at}.params: Input should be a valid dictionary`);
    if (seen.has(customId)) {
      throw anthropicInvalidRequest(
        `requests: custom_id "${customId}" is used more than once; each must be unique within a batch`,
      );
    }
    seen.add(customId);
    requests.push({ customId, params });
  }
  return requests;
}

async function create(context: BatchContext, batches: BatchStore<AnthropicBatch>, exchange: BatchExchange) {
  const version = readAnthropicVersion(exchange.headers);
  const body = await exchange.readBody(MAX_ANTHROPIC_BATCH_BYTES);
  const read = await readObjectWithLargeArray(body, ['requests'], {
    maxElements: MAX_ANTHROPIC_BATCH_REQUESTS,
    maxValueBytes: MAX_REQUEST_BYTES,
  });
  if (!read.ok) {
    if (read.reason === 'invalid_json') throw anthropicWire.renderFailure({ kind: 'invalid_json' });
    if (read.reason === 'not_an_object') throw anthropicInvalidRequest('The request body must be a JSON object.');
    if (read.reason === 'value_too_large') {
      throw anthropicError(413, 'request_too_large', `A request in the batch exceeds ${MAX_REQUEST_BYTES} bytes.`);
    }
    throw anthropicInvalidRequest(
      `requests: List should have at most ${MAX_ANTHROPIC_BATCH_REQUESTS} items after validation`,
    );
  }
  const extra = Object.keys(read.members).find((key) => key !== 'requests');
  if (extra !== undefined) throw anthropicInvalidRequest(`${extra}: Extra inputs are not permitted`);
  if (read.members.requests === undefined) throw anthropicInvalidRequest('requests: Field required');
  if (!Array.isArray(read.members.requests)) throw anthropicInvalidRequest('requests: Input should be a valid list');
  if (read.elements.length === 0) {
    throw anthropicInvalidRequest('requests: List should have at least 1 item after validation, not 0');
  }
  const requests = await checkRequests(read.elements);
  const batch = new AnthropicBatch({ requests, version, context });
  if (!batches.add(batch)) {
    batch.dispose();
    throw anthropicError(429, 'rate_limit_error', 'Number of message batches in progress exceeds your limit.');
  }
  return reply(batch.toJSON(exchange.origin));
}

function list(batches: BatchStore<AnthropicBatch>, exchange: BatchExchange): BatchReply {
  const rawLimit = exchange.query.get('limit');
  const limit = rawLimit === null ? 20 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw anthropicInvalidRequest('limit: Input should be less than or equal to 1000 and greater than or equal to 1');
  }
  const all = batches.newestFirst().map((batch) => batch.toJSON(exchange.origin));
  const afterId = exchange.query.get('after_id');
  const beforeId = exchange.query.get('before_id');
  let start = 0;
  let end = all.length;
  if (afterId !== null) start = all.findIndex((batch) => batch.id === afterId) + 1;
  if (beforeId !== null)
    end = Math.max(
      0,
      all.findIndex((batch) => batch.id === beforeId),
    );
  const window = beforeId !== null ? all.slice(Math.max(start, end - limit), end) : all.slice(start, start + limit);
  const hasMore = beforeId !== null ? end - limit > start : start + limit < end;
  return reply({
    data: window,
    has_more: hasMore,
    first_id: window[0]?.id ?? null,
    last_id: window.at(-1)?.id ?? null,
  });
}

/** Message Batches: create, list, retrieve, cancel, delete, results (JSONL at `results_url`). */
export function anthropicBatchRoutes(context: BatchContext, batches: BatchStore<AnthropicBatch>): BatchRoute[] {
  return [
    {
      wire: anthropicWire,
      matches: (method, pathname) => pathname === '/v1/messages/batches' && (method === 'POST' || method === 'GET'),
      handle: async (exchange) =>
        exchange.method === 'POST' ? create(context, batches, exchange) : list(batches, exchange),
    },
    {
      wire: anthropicWire,
      matches: (method, pathname) => {
        const action = BATCH_PATH.exec(pathname)?.[2];
        if (!BATCH_PATH.test(pathname)) return false;
        if (action === '/cancel') return method === 'POST';
        if (action === '/results') return method === 'GET';
        return method === 'GET' || method === 'DELETE';
      },
      async handle(exchange) {
        const match = BATCH_PATH.exec(exchange.pathname);
        const id = decodeURIComponent(match?.[1] ?? '');
        const batch = batches.get(id);
        if (batch === undefined) throw notFound(id);
        if (match?.[2] === '/cancel') batch.cancel();
        if (match?.[2] === '/results') {
          const results = batch.resultsFile();
          if (results === undefined) {
            throw anthropicInvalidRequest(`Message batch ${id} has not ended yet: its results are not available.`);
          }
          return { status: 200, raw: results, contentType: 'application/binary', headers: anthropicBatchHeaders() };
        }
        if (exchange.method === 'DELETE') {
          if (!batch.isEnded()) {
            throw anthropicInvalidRequest(
              `Message batch ${id} is still in progress: cancel it and wait for it to end.`,
            );
          }
          batches.delete(id);
          return reply({ id, type: 'message_batch_deleted' });
        }
        return reply(batch.toJSON(exchange.origin));
      },
    },
  ];
}
