import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobStatus } from '../jobs/job-object.js';
import { traceFields } from '../tracing/trace-context.js';
import { jobRecordKey } from '../store/job-keys.js';
import {
  parseStoredSubmission,
  parseWebhookFields,
  RECORD_FIELD,
  WEBHOOK_READ_FIELDS,
} from '../store/job-record-fields.js';
import type { WebhookDeliveryLog } from './webhook-delivery-log.js';
import type { WebhookStatus } from './webhook-delivery-state.js';
import { isEndedJobStatus, type EndedJobStatus } from './webhook-event.js';
import { webhookDeliveryJobId, type WebhookJobData } from './webhook-queue.js';

/** What the enqueue needs of a job record (a whole `JobRecord` will do). */
export interface JobEndedWebhookSource {
  tenant: string;
  id: string;
  status: JobStatus;
  submission: { webhook?: { url: string } | undefined };
  /** When given and set, an attempt already happened: nothing is queued. */
  webhookStatus?: WebhookStatus | null;
}

/**
 * Queues the webhook of a job that has just ended (succeeded, failed or canceled). Call it right
 * after the terminal transition, and again whenever a job is found already ended (a crash may
 * have fallen between the two): the deterministic BullMQ id makes repeats no-ops. Does nothing
 * for a job without a webhook, not ended, or whose webhook already had an attempt; true when queued.
 */
export async function enqueueJobEndedWebhook(
  queue: Queue<WebhookJobData>,
  record: JobEndedWebhookSource,
): Promise<boolean> {
  if (record.submission.webhook === undefined || !isEndedJobStatus(record.status)) return false;
  if (record.webhookStatus !== undefined && record.webhookStatus !== null) return false;
  const data: WebhookJobData = {
    tenant: record.tenant,
    jobId: record.id,
    status: record.status,
    sequence: 0,
    ...traceFields(),
  };
  await queue.add(`job.${record.status}`, data, { jobId: webhookDeliveryJobId(record.id, record.status, 0) });
  return true;
}

/**
 * The same from a tenant and job id alone, for hooks such as the LLM processor's `onJobEnded`
 * and the cancel route's `onJobCanceled`. It reads only the status and webhook fields, never the
 * prompt or the result, so jobs without a webhook cost one small read.
 */
export function createJobEndedWebhookHook(options: { queue: Queue<WebhookJobData>; redis: Redis }) {
  return async (tenant: string, jobId: string): Promise<void> => {
    const key = jobRecordKey(tenant, jobId);
    const fields = parseWebhookFields(jobId, await options.redis.hmget(key, ...WEBHOOK_READ_FIELDS));
    if (fields === null) return;
    let webhookUrl = fields.webhookUrl;
    // Records written before `webhook_url` existed: read the submission once.
    if (webhookUrl === null) {
      const submission = await options.redis.hget(key, RECORD_FIELD.submission);
      webhookUrl = submission === null ? '' : (parseStoredSubmission(jobId, submission).webhook?.url ?? '');
    }
    await enqueueJobEndedWebhook(options.queue, {
      tenant,
      id: jobId,
      status: fields.status,
      submission: webhookUrl === '' ? {} : { webhook: { url: webhookUrl } },
      webhookStatus: fields.webhookStatus,
    });
  };
}

/**
 * Sends an ended job's event again, with a fresh retry schedule. A previous delivery of it still
 * waiting for its next attempt is dropped, so one sequence runs at a time. False when the record is gone.
 */
export async function enqueueWebhookRedelivery(
  queue: Queue<WebhookJobData>,
  log: WebhookDeliveryLog,
  record: { tenant: string; id: string; status: EndedJobStatus },
): Promise<boolean> {
  const sequence = await log.beginRedelivery(record.tenant, record.id);
  if (sequence === null) return false;
  const earlier = await queue.getJob(webhookDeliveryJobId(record.id, record.status, sequence - 1));
  const state = earlier === undefined ? 'unknown' : await earlier.getState();
  // Removal fails harmlessly if the attempt has just started; the receiver dedupes on webhook-id.
  if (state === 'delayed' || state === 'waiting') await earlier?.remove().catch(() => undefined);
  const data: WebhookJobData = {
    tenant: record.tenant,
    jobId: record.id,
    status: record.status,
    sequence,
    ...traceFields(),
  };
  await queue.add(`job.${record.status}`, data, {
    jobId: webhookDeliveryJobId(record.id, record.status, sequence),
  });
  return true;
}
