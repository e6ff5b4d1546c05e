import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { accountListSchema, AccountRegistry, orgLimitsOf } from './accounts.js';
import { anthropicEndpoints } from './anthropic-routes.js';
import { handleBatchRequest } from './batch-routing.js';
import { createBatchServices } from './batch-services.js';
import { BatchStats } from './batch-stats.js';
import { handleControlRequest, type SimulatorControl } from './control-routes.js';
import { FaultRuleBook } from './fault-rules.js';
import { geminiEndpoints } from './gemini-routes.js';
import { HoldGate } from './hold-gate.js';
import { DEFAULT_MAX_BODY_BYTES, writeWireError } from './http-io.js';
import { openAIEndpoints, openAIWire } from './openai-routes.js';
import type { ProviderEndpoint, WireFormat } from './provider-endpoint.js';
import { RateLimiter } from './rate-limiter.js';
import { RATE_WINDOW_MS } from './rate-window.js';
import { handleProviderRequest, type PipelineContext } from './request-pipeline.js';
import {
  applySettingsUpdate,
  rateLimitsSchema,
  resolveSettings,
  settingsUpdateSchema,
  type SimulatorOptions,
} from './simulator-options.js';
import { StatsRecorder } from './stats.js';

/** Idle keep-alive sockets live this long: benchmark clients reuse connections for minutes. */
const KEEP_ALIVE_TIMEOUT_MS = 10 * 60_000;
/** Must exceed the keep-alive timeout, or Node may cut a reused socket mid-headers. */
const HEADERS_TIMEOUT_MS = KEEP_ALIVE_TIMEOUT_MS + 5_000;
/** Pending-connection queue; the default 511 drops SYNs when thousands of clients connect at once. */
const LISTEN_BACKLOG = 8192;

export interface Simulator extends SimulatorControl {
  readonly server: Server;
  /** Starts listening; port 0 (default) picks a free one; host defaults to 127.0.0.1. */
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Releases hanging and waiting requests, closes every connection, stops listening. */
  close(): Promise<void>;
}

function defaultOnError(error: unknown): void {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'simulator internal error', error: message })}\n`);
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const onError = options.onError ?? defaultOnError;
  const settings = resolveSettings(options);
  const accounts = options.accounts === undefined ? [] : accountListSchema.parse(options.accounts);
  const limiter = new RateLimiter(rateLimitsSchema.parse(options.limits ?? {}), RATE_WINDOW_MS, orgLimitsOf(accounts));
  const context: PipelineContext = {
    settings,
    accounts: new AccountRegistry(accounts),
    faults: new FaultRuleBook(options.faults ?? []),
    limiter,
    stats: new StatsRecorder(options.requestLogCapacity),
    hanging: new Set(),
    held: new HoldGate(),
    clock: options.clock ?? (() => performance.now()),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  };
  const endpoints: readonly ProviderEndpoint[] = [...openAIEndpoints, ...anthropicEndpoints, ...geminiEndpoints];
  const batchContext = { ...context, batchStats: new BatchStats(), onError };
  const batchServices = createBatchServices(batchContext, options);

  const control: SimulatorControl = {
    stats: () =>
      context.stats.snapshot(
        limiter.statistics(context.clock()),
        { hanging: context.hanging.size, held: context.held.size },
        batchContext.batchStats.snapshot(),
        context.accounts.snapshot(),
      ),
    batchSubmissions: (provider) => batchContext.batchStats.submissions(provider),
    requests: (since = 0) => context.stats.requestsSince(since),
    faults: () => context.faults.list(),
    setFaults: (rules) => {
      context.faults.replace(rules);
      context.held.releaseAll();
    },
    reset: () => {
      context.stats.reset();
      limiter.clear();
      context.accounts.reset();
      context.faults.clear();
      context.held.releaseAll();
      batchContext.batchStats.reset();
      batchServices.reset();
    },
    configure: (update) => {
      const parsed = settingsUpdateSchema.parse(update);
      applySettingsUpdate(context.settings, parsed);
      if (parsed.limits !== undefined) limiter.setLimits(parsed.limits ?? {});
      return control.settings();
    },
    settings: () => ({
      latencyMs: context.settings.latencyMs,
      jitterMs: context.settings.jitterMs,
      chunkDelayMs: context.settings.chunkDelayMs,
      limits: limiter.limits,
      apiKeyCount: context.settings.apiKeys?.size ?? null,
      batchProcessingMs: context.settings.batchProcessingMs,
      batchExpiryMs: context.settings.batchExpiryMs,
      batchEnqueuedTokens: context.settings.batchEnqueuedTokens ?? null,
    }),
  };

  const answerInternalError = (response: ServerResponse, endpoint: { wire: WireFormat } | undefined) => {
    return (error: unknown): void => {
      onError(error);
      if (response.headersSent) response.destroy();
      else writeWireError(response, (endpoint?.wire ?? openAIWire).renderFailure({ kind: 'server_error' }));
    };
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const pathname = queryStart === -1 ? url : url.slice(0, queryStart);
    if (pathname.startsWith('/_sim/')) {
      handleControlRequest(control, request, response).catch(answerInternalError(response, undefined));
      return;
    }
    context.stats.requestOpened();
    response.once('close', () => context.stats.requestClosed());
    const method = request.method ?? 'GET';
    const batchRoute = batchServices.routes.find((candidate) => candidate.matches(method, pathname));
    if (batchRoute !== undefined) {
      handleBatchRequest(batchContext, batchRoute, request, response, pathname).catch(
        answerInternalError(response, batchRoute),
      );
      return;
    }
    const endpoint = endpoints.find((candidate) => candidate.matches(method, pathname));
    if (endpoint === undefined) {
      request.resume();
      writeWireError(response, openAIWire.renderFailure({ kind: 'not_found', method, path: pathname }));
      context.stats.record({
        time: Date.now(),
        path: pathname,
        model: null,
        status: 404,
        promptTokens: 0,
        completionTokens: 0,
        fault: null,
      });
      return;
    }
    handleProviderRequest(context, endpoint, request, response, pathname).catch(
      answerInternalError(response, endpoint),
    );
  };

  const server = createServer({ noDelay: true, requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS }, handle);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;
  server.timeout = 0;

  return {
    ...control,
    server,
    listen: (port = 0, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
          server.off('error', reject);
          const address = server.address();
          if (address === null || typeof address === 'string') {
            reject(new Error('simulator is not listening on a TCP port'));
            return;
          }
          const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({ url: `http://${urlHost}:${address.port}`, port: address.port });
        });
      }),
    close: () =>
      new Promise((resolve) => {
        batchServices.dispose();
        for (const response of context.hanging) response.destroy();
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
