import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { BatchStats } from './batch-stats.js';
import type { FaultRuleBook } from './fault-rules.js';
import type { HoldGate } from './hold-gate.js';
import { BodyTooLargeError, parseJson, readBody, writeWireError } from './http-io.js';
import type { WireFormat } from './provider-endpoint.js';
import type { SimulatorSettings } from './simulator-options.js';
import type { StatsRecorder } from './stats.js';
import { WireError } from './wire-error.js';

/**
 * The batch APIs' management routes (files, create, get, list, cancel, results). They check the
 * API key like every provider route but skip faults, rate windows and latency: those apply to a
 * batch's lines as they are answered (see `batch-line-step.ts`), not to the bookkeeping calls.
 */

/** What batch routes share: one per simulator. */
export interface BatchContext {
  readonly settings: SimulatorSettings;
  readonly faults: FaultRuleBook;
  readonly held: HoldGate;
  readonly batchStats: BatchStats;
  /** Reports an unexpected error (a bug); the simulator's `onError`. */
  readonly onError: (error: unknown) => void;
}

/** One management request as a route sees it. */
export interface BatchExchange {
  method: string;
  pathname: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** `http://host:port` as the client reached this server, for absolute URLs in answers. */
  origin: string;
  /** The body, at most `limitBytes`; beyond it the wire format's "body too large" error. */
  readBody(limitBytes: number): Promise<Buffer>;
  /** The body as JSON (an empty body is `{}`); the wire format's "invalid JSON" error otherwise. */
  readJson(limitBytes: number): Promise<unknown>;
}

export type BatchReply =
  | { status: number; json: unknown; headers?: Readonly<Record<string, string>> }
  | { status: number; raw: Buffer; contentType: string; headers?: Readonly<Record<string, string>> };

export interface BatchRoute {
  readonly wire: WireFormat;
  matches(method: string, pathname: string): boolean;
  /** Answers the request; throws a `WireError` for an error answer. */
  handle(exchange: BatchExchange): Promise<BatchReply>;
}

/**
 * The path as statistics record it: batch and file ids become `{id}`, so polling thousands of
 * batches adds no new keys to `requests.byPath`.
 */
export function statsPath(pathname: string): string {
  return pathname
    .replace(/^(\/v1\/(?:files|batches|messages\/batches))\/[^/]+/, '$1/{id}')
    .replace(/^\/v1beta\/batches\/[^/:]+/, '/v1beta/batches/{id}');
}

/** Thrown by `readBody` when the client left mid-body: nobody to answer. */
class ClientGoneError extends Error {}

function writeReply(response: ServerResponse, reply: BatchReply): void {
  if ('json' in reply) {
    const text = JSON.stringify(reply.json);
    response.writeHead(reply.status, {
      ...reply.headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
    return;
  }
  response.writeHead(reply.status, {
    ...reply.headers,
    'content-type': reply.contentType,
    'content-length': reply.raw.length,
  });
  response.end(reply.raw);
}

export async function handleBatchRequest(
  context: BatchContext & { readonly stats: StatsRecorder },
  route: BatchRoute,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
): Promise<void> {
  const time = Date.now();
  const { wire } = route;
  const path = statsPath(pathname);
  const finish = (status: number): void =>
    context.stats.record({
      time,
      path,
      model: null,
      status,
      promptTokens: 0,
      completionTokens: 0,
      fault: null,
    });
  const fail = (error: WireError): void => {
    writeWireError(response, error);
    finish(error.status);
  };

  const key = wire.readApiKey(request);
  if (key === undefined) return fail(wire.renderFailure({ kind: 'missing_api_key' }));
  const acceptedKeys = context.settings.apiKeys;
  if (acceptedKeys !== undefined && !acceptedKeys.has(key)) {
    return fail(wire.renderFailure({ kind: 'invalid_api_key', key }));
  }

  const readLimited = async (limitBytes: number): Promise<Buffer> => {
    try {
      return await readBody(request, limitBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw wire.renderFailure({ kind: 'body_too_large', limitBytes });
      throw new ClientGoneError();
    }
  };
  const url = new URL(request.url ?? '/', 'http://simulator.local');
  const exchange: BatchExchange = {
    method: request.method ?? 'GET',
    pathname,
    query: url.searchParams,
    headers: request.headers,
    origin: `http://${request.headers.host ?? 'localhost'}`,
    readBody: readLimited,
    async readJson(limitBytes) {
      const body = await readLimited(limitBytes);
      if (body.length === 0) return {};
      const json = parseJson(body);
      if (!json.ok) throw wire.renderFailure({ kind: 'invalid_json' });
      return json.value;
    },
  };
  let reply: BatchReply;
  try {
    reply = await route.handle(exchange);
  } catch (error) {
    if (error instanceof WireError) return fail(error);
    if (error instanceof ClientGoneError) return;
    throw error;
  }
  if (request.readableEnded === false) request.resume();
  writeReply(response, reply);
  finish(reply.status);
}
