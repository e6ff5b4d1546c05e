import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import { Counter } from 'prom-client';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  LimitRules,
  RateLimiter,
  type LlmqConfig,
  createJobSubmissionSchema,
  IdempotencyKeys,
  WebhookAllowlist,
  webhookUrlProblem,
  type ApiSpendSetup,
  type BatchLines,
  type JobStore,
  type LlmJobData,
  type Logger,
  type ModelCatalog,
} from '@llmq/core';
import { adminRoutes } from './admin/admin-routes.js';
import { requireApiKey } from './auth.js';
import { DEFAULT_JOB_POLICY, type JobPolicy } from './config.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { limitJsonDepth, verifyJsonShape, yieldAfterLargeBody } from './json-depth-limit.js';
import { healthRoutes } from './health/health-routes.js';
import { createIdempotency } from './idempotency/idempotent-submission.js';
import type { JobEvents } from './job-events.js';
import { ApiMetrics } from './metrics/api-metrics.js';
import { BatchMetrics } from './metrics/batch-metrics.js';
import { OpenAiMetrics } from './metrics/openai-metrics.js';
import { createOpenApiDocument } from './openapi/openapi-document.js';
import { batchFileRoutes } from './openai-compat/batches/batch-file-routes.js';
import { BatchFileStore } from './openai-compat/batches/batch-file-store.js';
import { batchRoutes } from './openai-compat/batches/batch-routes.js';
import { BatchStore } from './openai-compat/batches/batch-store.js';
import { tenantRateLimit } from './rate-limit/tenant-rate-limit.js';
import { traceRequests } from './tracing/request-span.js';
import { jobEventsRoutes } from './routes/job-events-routes.js';
import { jobsRoutes } from './routes/jobs-routes.js';
import { createJobAcceptor } from './job-acceptance.js';
import { listModels } from './openai-compat/model-list.js';
import { openAiCompatRoutes, OPENAI_COMPAT_PATHS } from './openai-compat/openai-compat-routes.js';
import { openAiErrorHandler } from './openai-compat/openai-error.js';
import { usageRoutes } from './routes/usage-routes.js';
import { webhookRoutes, type WebhookRoutesOptions } from './routes/webhook-routes.js';
import { securityHeaders } from './server/security-headers.js';

export interface AppOptions {
  queue: Queue<LlmJobData>;
  store: JobStore;
  events: JobEvents;
  /** Commands (not the subscriber); reads partial output for SSE clients. */
  redis: Redis;
  logger: Logger;
  /**
   * Webhook secrets, redelivery and the queue canceled jobs' webhooks go to; without it those
   * routes answer 404. `allowlist` opens addresses for `webhook.url` (default: none).
   */
  webhooks?: Omit<WebhookRoutesOptions, 'store'> & { allowlist?: WebhookAllowlist };
  /** The dashboard at /admin/queues behind `token`; without it, /admin answers 404. */
  admin?: { token: string; readOnly?: boolean };
  /** Default: a registry of its own over the queues. */
  metrics?: ApiMetrics;
  /** True once the process is shutting down: /readyz answers 503. Default: never. */
  draining?: () => boolean;
  /** Budgets (402 at submit), this month's figures in /v1/usage, semantic-cache checks. Default: none. */
  spend?: ApiSpendSetup;
  config: {
    /** API key -> tenant. */
    apiKeys: ReadonlyMap<string, string>;
    catalog: ModelCatalog;
    /** Output tokens the limiter reserves for a request without max_tokens. Default 1024. */
    defaultOutputTokens?: number;
    /** Attempts, timeouts and deadlines of jobs. Default: DEFAULT_JOB_POLICY. */
    jobPolicy?: JobPolicy;
    /** Largest accepted request body in bytes. */
    maxBodyBytes: number;
    /** SSE keep-alive interval, ms. Default 15 s. */
    keepAliveMs?: number;
    /** Requests per second one tenant may make to /v1, across replicas; 0 is no limit. Default 10,000. */
    apiRateLimit?: number;
    /** Bearer token /metrics requires. Default: none (open). */
    metricsToken?: string;
    /** The config's `limits` and `tenant_limits`: a job canceled while parked gives its slot back. Default: none. */
    limits?: Pick<LlmqConfig, 'limits' | 'tenant_limits'>;
    /** A batch's completion window, seconds (LLMQ_BATCH_WINDOW_SECONDS). Default 86,400. */
    batchWindowSeconds?: number;
    /** What a batch's lines become (the config's `batching.batch_api_lines`). Default `defer`. */
    batchLines?: BatchLines;
  };
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Builds the HTTP app from its dependencies; `main.ts` owns the server and the connections. */
export function createApp(options: AppOptions): Express {
  const app = express();
  const webhookAllowlist = options.webhooks?.allowlist ?? new WebhookAllowlist();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(
    pinoHttp({
      logger: options.logger,
      genReqId: (request, response) => {
        const incoming = request.headers['x-request-id'];
        const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        response.setHeader('x-request-id', id);
        return id;
      },
      customLogLevel: (_request, response, error) =>
        error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
      quietReqLogger: true,
      // Probes and scrapes arrive every few seconds from every balancer and Prometheus: no line each.
      autoLogging: { ignore: (request) => PROBE_PATHS.has(request.url ?? '') },
      // The job a request created or named goes on the request's own line.
      customProps: (request, response) => {
        const jobId =
          (response as { locals?: { jobId?: string } }).locals?.jobId ??
          (request as { params?: { id?: string } }).params?.id;
        return jobId ? { jobId } : {};
      },
      // One short line per request: method, path, status and time, not every header.
      serializers: {
        req: (request: { id: unknown; method: string; url: string }) => ({
          id: request.id,
          method: request.method,
          url: request.url,
        }),
        res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
      },
    }),
  );
  const queues = [options.queue, ...(options.webhooks ? [options.webhooks.queue] : [])];
  const metrics = options.metrics ?? new ApiMetrics({ queues });
  app.use(metrics.httpRequests());
  app.use(securityHeaders());
  app.use(healthRoutes({ redis: options.redis, queues, ...(options.draining ? { draining: options.draining } : {}) }));
  app.get('/metrics', metrics.route({ token: options.config.metricsToken }));
  if (options.spend) {
    const refusals = options.spend.counters.budgetRefusals;
    new Counter({
      name: 'llmq_budget_refusals_total',
      help: 'Submissions refused with 402 budget_exceeded by this API process, by tenant',
      labelNames: ['tenant'],
      registers: [metrics.registry],
      // Read from the budget guard's own tally at scrape time.
      collect() {
        this.reset();
        for (const [tenant, count] of refusals) this.inc({ tenant }, count);
      },
    });
  }
  let openApi: object | undefined;
  app.get('/openapi.json', (_request, response) => {
    openApi ??= createOpenApiDocument({
      submissionSchema: createJobSubmissionSchema(options.config.catalog),
      catalog: options.config.catalog,
      semanticCache: options.spend?.semanticCache ?? true,
    });
    response.json(openApi);
  });
  if (options.admin) {
    app.use(
      adminRoutes({
        ...options.admin,
        llmQueue: options.queue,
        webhookQueue: options.webhooks?.queue,
        store: options.store,
        batches: {
          batches: new BatchStore(options.redis, options.store.retentionMs),
          tenants: [...options.config.apiKeys.values()],
        },
      }),
    );
  }
  // A span per API request (a no-op unless tracing is on): submissions' enqueue spans hang under it.
  app.use('/v1', traceRequests());
  app.use('/v1', requireApiKey(options.config.apiKeys));
  const apiRateLimit = options.config.apiRateLimit ?? 10_000;
  if (apiRateLimit > 0) {
    app.use(
      '/v1',
      tenantRateLimit({
        redis: options.redis,
        perSecond: apiRateLimit,
        onLimited: (tenant) => metrics.rateLimited.inc({ tenant }),
      }),
    );
  }
  app.use(metrics.countJobRequests());
  app.use(
    '/v1',
    express.json({
      limit: options.config.maxBodyBytes,
      strict: false,
      type: ['application/json', 'application/*+json'],
      verify: verifyJsonShape(),
    }),
  );
  app.use('/v1', yieldAfterLargeBody(), limitJsonDepth(), yieldAfterLargeBody());
  app.use(
    jobsRoutes({
      queue: options.queue,
      store: options.store,
      events: options.events,
      catalog: options.config.catalog,
      defaultOutputTokens: options.config.defaultOutputTokens ?? 1024,
      jobPolicy: options.config.jobPolicy ?? DEFAULT_JOB_POLICY,
      redis: options.redis,
      webhookUrlProblem: (url) => webhookUrlProblem(url, webhookAllowlist),
      idempotency: createIdempotency({
        // A key never outlives the job it names.
        keys: new IdempotencyKeys({ redis: options.redis, ttlMs: Math.min(86_400_000, options.store.retentionMs) }),
        store: options.store,
      }),
      ...(options.spend ? { budget: options.spend.budget, semanticCache: options.spend.semanticCache } : {}),
      ...(options.config.limits
        ? { limiter: { limiter: new RateLimiter(options.redis), rules: new LimitRules(options.config.limits) } }
        : {}),
    }),
  );
  app.use(usageRoutes({ redis: options.redis, ...(options.spend ? { ledger: options.spend.ledger } : {}) }));
  if (options.webhooks) app.use(webhookRoutes({ store: options.store, ...options.webhooks }));
  app.use(
    jobEventsRoutes({
      store: options.store,
      events: options.events,
      redis: options.redis,
      ...(options.config.keepAliveMs !== undefined ? { keepAliveMs: options.config.keepAliveMs } : {}),
    }),
  );
  // Batch files and batches are kept as long as jobs are.
  const batchFiles = new BatchFileStore({ redis: options.redis, retentionMs: options.store.retentionMs });
  app.use(batchFileRoutes({ files: batchFiles }));
  app.use(
    batchRoutes({
      files: batchFiles,
      batches: new BatchStore(options.redis, options.store.retentionMs),
      store: options.store,
      cancellation: {
        store: options.store,
        queue: options.queue,
        redis: options.redis,
        ...(options.spend ? { budget: options.spend.budget } : {}),
        ...(options.config.limits
          ? { limiter: { limiter: new RateLimiter(options.redis), rules: new LimitRules(options.config.limits) } }
          : {}),
      },
      acceptance: {
        queue: options.queue,
        store: options.store,
        catalog: options.config.catalog,
        defaultOutputTokens: options.config.defaultOutputTokens ?? 1024,
        jobPolicy: options.config.jobPolicy ?? DEFAULT_JOB_POLICY,
        ...(options.spend ? { budget: options.spend.budget } : {}),
      },
      submissionSchema: createJobSubmissionSchema(options.config.catalog, {
        ...(options.spend ? { semanticCache: options.spend.semanticCache } : {}),
      }),
      metrics: new BatchMetrics(metrics.registry),
      logger: options.logger,
      ...(options.config.batchWindowSeconds !== undefined ? { windowSeconds: options.config.batchWindowSeconds } : {}),
      ...(options.config.batchLines !== undefined ? { lines: options.config.batchLines } : {}),
    }),
  );
  const limitedModels = Object.keys(options.config.limits?.limits ?? {});
  app.use(
    openAiCompatRoutes({
      accept: createJobAcceptor({
        queue: options.queue,
        store: options.store,
        catalog: options.config.catalog,
        defaultOutputTokens: options.config.defaultOutputTokens ?? 1024,
        jobPolicy: options.config.jobPolicy ?? DEFAULT_JOB_POLICY,
        ...(options.spend ? { budget: options.spend.budget } : {}),
      }),
      submissionSchema: createJobSubmissionSchema(options.config.catalog, {
        webhookUrlProblem: (url) => webhookUrlProblem(url, webhookAllowlist),
        ...(options.spend ? { semanticCache: options.spend.semanticCache } : {}),
      }),
      store: options.store,
      events: options.events,
      redis: options.redis,
      catalog: options.config.catalog,
      limitedModels,
      metrics: new OpenAiMetrics({
        registry: metrics.registry,
        models: listModels(options.config.catalog, limitedModels).map((model) => model.id),
      }),
      ...(options.config.keepAliveMs !== undefined ? { keepAliveMs: options.config.keepAliveMs } : {}),
    }),
  );
  app.use(notFoundHandler);
  // OpenAI's error shape on OpenAI's paths (auth and tenant limits included), llmq's elsewhere.
  app.use(OPENAI_COMPAT_PATHS, openAiErrorHandler);
  app.use(errorHandler);
  return app;
}
