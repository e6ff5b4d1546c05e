import { Worker, type ConnectionOptions } from 'bullmq';
import { createWebhookBackoffStrategy, QUEUE_PREFIX, WEBHOOK_QUEUE_NAME, type WebhookJobData } from '@llmq/core';
import {
  createWebhookDeliveryProcessor,
  type WebhookDeliveryProcessorOptions,
  type WebhookDeliveryReturn,
} from './webhook-delivery-processor.js';

export interface WebhookWorkerOptions extends WebhookDeliveryProcessorOptions {
  /** A connection of its own: BullMQ workers block on theirs. */
  connection: ConnectionOptions;
  /** Deliveries sent at once. Default: 32. */
  concurrency?: number;
  /** Jitter of the retry delays, as a share of each. Default: 0.1. */
  retryJitter?: number;
}

/** The BullMQ worker of the webhook queue, retrying on the webhook schedule. */
export function createWebhookWorker(options: WebhookWorkerOptions): Worker<WebhookJobData, WebhookDeliveryReturn> {
  const { connection, concurrency, retryJitter, ...processorOptions } = options;
  return new Worker<WebhookJobData, WebhookDeliveryReturn>(
    WEBHOOK_QUEUE_NAME,
    createWebhookDeliveryProcessor(processorOptions),
    {
      connection,
      prefix: QUEUE_PREFIX,
      concurrency: concurrency ?? 32,
      settings: {
        backoffStrategy: createWebhookBackoffStrategy({
          ...(options.retryDelaysMs ? { delaysMs: options.retryDelaysMs } : {}),
          ...(retryJitter !== undefined ? { jitter: retryJitter } : {}),
        }),
      },
    },
  );
}
