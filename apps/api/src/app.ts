import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  createJobEndedWebhookHook,
  WebhookAllowlist,
  webhookUrlProblem,
  type JobStore,
  type LlmJobData,
  type Logger,
  type ModelCatalog,
} from '@llmq/core';
import { requireApiKey } from './auth.js';
import { DEFAULT_JOB_POLICY, type JobPolicy } from './config.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import type { JobEvents } from './job-events.js';
import { jobEventsRoutes } from './routes/job-events-routes.js';
import { jobsRoutes } from './routes/jobs-routes.js';
import { webhookRoutes, type WebhookRoutesOptions } from './routes/webhook-routes.js';

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
  };
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

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
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.use('/v1', requireApiKey(options.config.apiKeys));
  app.use(
    '/v1',
    express.json({
      limit: options.config.maxBodyBytes,
      strict: false,
      type: ['application/json', 'application/*+json'],
    }),
  );
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
      ...(options.webhooks
        ? { onJobCanceled: createJobEndedWebhookHook({ queue: options.webhooks.queue, redis: options.redis }) }
        : {}),
    }),
  );
  if (options.webhooks) app.use(webhookRoutes({ store: options.store, ...options.webhooks }));
  app.use(
    jobEventsRoutes({
      store: options.store,
      events: options.events,
      redis: options.redis,
      ...(options.config.keepAliveMs !== undefined ? { keepAliveMs: options.config.keepAliveMs } : {}),
    }),
  );
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
