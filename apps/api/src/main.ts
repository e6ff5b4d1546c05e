import { once } from 'node:events';
import { createServer } from 'node:http';
import {
  warmUpTokenizer,
  checkRedisServer,
  createLlmQueue,
  createApiSpendSetup,
  createLogger,
  startTraceExport,
  traceExportOptionsFrom,
  lifecycleLogger,
  createModelCatalog,
  createWebhookQueue,
  JobStore,
  loadLlmqConfig,
  WebhookDeliveryLog,
  WebhookSecretStore,
  webhookSettingsFrom,
  createRedisConnection,
} from '@llmq/core';
import { createApp } from './app.js';
import { answerClientError } from './client-error.js';
import { jobPolicyFrom, parseApiEnv } from './config.js';
import { JobEvents } from './job-events.js';
import { HttpDrain } from './server/http-drain.js';
import { serverTimeoutOptions } from './server/server-timeouts.js';

async function main(): Promise<void> {
  const env = parseApiEnv(process.env);
  // Traces go to an OTLP endpoint when one is set; otherwise no SDK starts (README, "Tracing").
  const tracing = await startTraceExport(traceExportOptionsFrom(env));
  const logger = createLogger({ name: 'api', level: env.LOG_LEVEL });
  const config = await loadLlmqConfig(env.LLMQ_CONFIG);

  // No offline queue: while Redis is down, commands fail at once and requests get a 503
  // instead of hanging; the connection itself keeps reconnecting. No auto-pipelining: each of its
  // pipelines copies every script BullMQ defined on the client (4x the CPU of a plain command).
  const redis = createRedisConnection(env.REDIS_URL, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 5_000,
  });
  if (redis.status !== 'ready') await once(redis, 'ready');
  // Refuses a Redis that may evict jobs; says what it persists.
  await checkRedisServer(redis, { allowEviction: env.LLMQ_ALLOW_EVICTION, logger: lifecycleLogger(logger) });
  const subscriber = createRedisConnection(env.REDIS_URL, { maxRetriesPerRequest: null });
  const queue = createLlmQueue({ connection: redis, keepFinishedMs: env.LLMQ_RETENTION_SECONDS * 1000 });
  const store = new JobStore({ redis, retentionMs: env.LLMQ_RETENTION_SECONDS * 1000 });
  const events = await JobEvents.start({ subscriber, logger });
  const webhookSettings = webhookSettingsFrom(config.webhooks);
  const webhookQueue = createWebhookQueue({ connection: redis, delaysMs: webhookSettings.retryDelaysMs });

  const catalog = createModelCatalog(config);
  // The tokenizer's table is built before the first request, not inside it.
  warmUpTokenizer();
  let draining = false;
  const app = createApp({
    queue,
    store,
    events,
    redis,
    logger,
    draining: () => draining,
    ...(env.LLMQ_ADMIN_TOKEN ? { admin: { token: env.LLMQ_ADMIN_TOKEN, readOnly: env.LLMQ_ADMIN_READ_ONLY } } : {}),
    spend: createApiSpendSetup({ redis, config, catalog }),
    webhooks: {
      queue: webhookQueue,
      secrets: new WebhookSecretStore({ redis }),
      deliveries: new WebhookDeliveryLog(redis),
      allowlist: webhookSettings.allowlist,
      secretGraceMs: webhookSettings.secretGraceMs,
    },
    config: {
      apiKeys: env.LLMQ_API_KEYS,
      catalog,
      limits: config,
      maxBodyBytes: env.LLMQ_MAX_BODY_BYTES,
      defaultOutputTokens: config.default_output_tokens,
      jobPolicy: jobPolicyFrom(env),
      apiRateLimit: env.LLMQ_API_RATE_LIMIT,
      batchWindowSeconds: env.LLMQ_BATCH_WINDOW_SECONDS,
      batchLines: config.batching.batch_api_lines,
      ...(env.LLMQ_METRICS_TOKEN ? { metricsToken: env.LLMQ_METRICS_TOKEN } : {}),
    },
  });
  const server = createServer(
    serverTimeoutOptions({
      keepAliveTimeoutMs: env.LLMQ_KEEP_ALIVE_TIMEOUT_MS,
      headersTimeoutMs: env.LLMQ_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.LLMQ_REQUEST_TIMEOUT_MS,
    }),
    app,
  );
  const drain = new HttpDrain(server);
  server.listen(env.PORT, env.HOST);
  server.on('clientError', answerClientError);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : env.PORT;
  lifecycleLogger(logger).info(
    { port, tenants: new Set(env.LLMQ_API_KEYS.values()).size, dashboard: env.LLMQ_ADMIN_TOKEN !== undefined },
    'api listening',
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    draining = true;
    lifecycleLogger(logger).info({ signal, inFlight: drain.inFlight }, 'api shutting down');
    // Stops accepting, ends SSE streams, lets requests in flight finish, cuts the rest at the grace.
    const drained = await drain.close({ graceMs: env.LLMQ_SHUTDOWN_GRACE_MS });
    lifecycleLogger(logger).info(drained, 'api drained');
    await events.close();
    await queue.close();
    await webhookQueue.close();
    await redis.quit().catch(() => undefined);
    await tracing.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
