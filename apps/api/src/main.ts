import { once } from 'node:events';
import { Redis } from 'ioredis';
import {
  createLlmQueue,
  createLogger,
  lifecycleLogger,
  createModelCatalog,
  createWebhookQueue,
  JobStore,
  loadLlmqConfig,
  WebhookDeliveryLog,
  WebhookSecretStore,
  webhookSettingsFrom,
} from '@llmq/core';
import { createApp } from './app.js';
import { jobPolicyFrom, parseApiEnv } from './config.js';
import { JobEvents } from './job-events.js';

async function main(): Promise<void> {
  const env = parseApiEnv(process.env);
  const logger = createLogger({ name: 'api', level: env.LOG_LEVEL });
  const config = await loadLlmqConfig(env.LLMQ_CONFIG);

  // No offline queue: while Redis is down, commands fail at once and requests get a 503
  // instead of hanging; the connection itself keeps reconnecting.
  const redis = new Redis(env.REDIS_URL, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 5_000,
    enableAutoPipelining: true,
  });
  if (redis.status !== 'ready') await once(redis, 'ready');
  const subscriber = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
  const queue = createLlmQueue({ connection: redis });
  const store = new JobStore({ redis, retentionMs: env.LLMQ_RETENTION_SECONDS * 1000 });
  const events = await JobEvents.start({ subscriber, logger });
  const webhookSettings = webhookSettingsFrom(config.webhooks);
  const webhookQueue = createWebhookQueue({ connection: redis, delaysMs: webhookSettings.retryDelaysMs });

  const app = createApp({
    queue,
    store,
    events,
    redis,
    logger,
    webhooks: {
      queue: webhookQueue,
      secrets: new WebhookSecretStore({ redis }),
      deliveries: new WebhookDeliveryLog(redis),
      allowlist: webhookSettings.allowlist,
      secretGraceMs: webhookSettings.secretGraceMs,
    },
    config: {
      apiKeys: env.LLMQ_API_KEYS,
      catalog: createModelCatalog(config),
      maxBodyBytes: env.LLMQ_MAX_BODY_BYTES,
      defaultOutputTokens: config.default_output_tokens,
      jobPolicy: jobPolicyFrom(env),
    },
  });
  const server = app.listen(env.PORT, env.HOST);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : env.PORT;
  lifecycleLogger(logger).info({ port, tenants: new Set(env.LLMQ_API_KEYS.values()).size }, 'api listening');

  const shutdown = async (signal: string) => {
    lifecycleLogger(logger).info({ signal }, 'api shutting down');
    server.close();
    server.closeIdleConnections();
    await events.close();
    await queue.close();
    await webhookQueue.close();
    await redis.quit().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
