import type { Redis } from 'ioredis';
import {
  createJobEndedWebhookHook,
  createRedisConnection,
  createWebhookQueue,
  JobStore,
  WebhookDeliveryLog,
  WebhookSecretStore,
  webhookSettingsFrom,
  type Logger,
  type WebhookConfig,
} from '@llmq/core';
import { createWebhookWorker } from './webhook-worker.js';

/**
 * Webhook delivery inside a worker process: the queue the LLM processor feeds when a job ends,
 * and the worker that sends, on its own connection and concurrency, apart from LLM jobs.
 */
export async function startWebhookDelivery(options: {
  redisUrl: string;
  /** Shared command connection. */
  redis: Redis;
  config: WebhookConfig;
  logger: Logger;
  /** Where attempts are recorded (a metered log counts them). Default: a WebhookDeliveryLog on `redis`. */
  deliveries?: WebhookDeliveryLog;
}) {
  const settings = webhookSettingsFrom(options.config);
  const queue = createWebhookQueue({ connection: options.redis, delaysMs: settings.retryDelaysMs });
  const worker = createWebhookWorker({
    connection: createRedisConnection(options.redisUrl, { maxRetriesPerRequest: null }),
    store: new JobStore({ redis: options.redis }),
    secrets: new WebhookSecretStore({ redis: options.redis }),
    deliveries: options.deliveries ?? new WebhookDeliveryLog(options.redis),
    logger: options.logger,
    allowlist: settings.allowlist,
    retryDelaysMs: settings.retryDelaysMs,
    timeoutMs: settings.timeoutMs,
    maxResponseBytes: settings.maxResponseBytes,
    concurrency: settings.concurrency,
  });
  worker.on('error', (error) => options.logger.error({ err: error }, 'webhook worker error'));
  await worker.waitUntilReady();
  return {
    queue,
    worker,
    /** For the end dispatcher: queues an ended job's webhook, if it has one (repeats are no-ops). */
    onJobEnded: createJobEndedWebhookHook({ queue, redis: options.redis }),
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
