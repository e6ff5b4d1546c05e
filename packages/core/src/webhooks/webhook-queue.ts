import { Queue, type ConnectionOptions } from 'bullmq';
import { QUEUE_PREFIX } from '../queue/llm-queue.js';
import type { EndedJobStatus } from './webhook-event.js';
import { webhookMaxAttempts, type WebhookRetryScheduleOptions } from './webhook-schedule.js';

/** The queue of webhook deliveries, apart from LLM jobs so a slow receiver never holds an LLM slot. */
export const WEBHOOK_QUEUE_NAME = 'webhooks';

/** The backoff type the webhook worker's strategy answers (see webhook-schedule.ts). */
export const WEBHOOK_BACKOFF_TYPE = 'llmq-webhook';

/** What BullMQ carries for a delivery: references only; the body is built from the record. */
export interface WebhookJobData {
  tenant: string;
  jobId: string;
  status: EndedJobStatus;
  /** 0 for the delivery sent when the job ended, n for the n-th redelivery. */
  sequence: number;
  /** W3C `traceparent` of the span that queued the delivery (the job's end). Absent when tracing is off. */
  traceparent?: string;
}

export interface WebhookQueueOptions extends Pick<WebhookRetryScheduleOptions, 'delaysMs'> {
  connection: ConnectionOptions;
  /** How long a finished delivery stays in BullMQ (dashboard, duplicate guard), ms. Default: 1 day. */
  keepFinishedMs?: number;
}

export function createWebhookQueue(options: WebhookQueueOptions): Queue<WebhookJobData> {
  const age = Math.floor((options.keepFinishedMs ?? 24 * 3_600_000) / 1000);
  return new Queue<WebhookJobData>(WEBHOOK_QUEUE_NAME, {
    connection: options.connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: {
      attempts: webhookMaxAttempts(options.delaysMs ? { delaysMs: options.delaysMs } : {}),
      backoff: { type: WEBHOOK_BACKOFF_TYPE },
      removeOnComplete: { age, count: 10_000 },
      removeOnFail: { age, count: 10_000 },
    },
  });
}

/** BullMQ's id of one delivery: deterministic, so enqueueing the same event twice adds it once. */
export function webhookDeliveryJobId(jobId: string, status: EndedJobStatus, sequence: number): string {
  return sequence === 0 ? `whk_${jobId}_${status}` : `whk_${jobId}_${status}_${sequence}`;
}
