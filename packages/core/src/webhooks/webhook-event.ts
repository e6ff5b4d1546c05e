import type { JobObject, JobStatus } from '../jobs/job-object.js';
import { toJobObject, type JobRecord } from '../store/job-store.js';

/** The statuses a job ends in, each of which sends one event. */
export type EndedJobStatus = Extract<JobStatus, 'succeeded' | 'failed' | 'canceled'>;

export type WebhookEventType = `job.${EndedJobStatus}`;

/** What a webhook delivery posts. */
export interface JobEndedEvent {
  type: WebhookEventType;
  /** When the job ended, ISO 8601. */
  timestamp: string;
  /** The job object as it was when the job ended (its webhook shows no deliveries yet). */
  data: JobObject;
}

export function isEndedJobStatus(status: string): status is EndedJobStatus {
  return status === 'succeeded' || status === 'failed' || status === 'canceled';
}

/** `webhook-id`: one per event, the same on every attempt and redelivery. */
export function webhookMessageId(jobId: string, status: EndedJobStatus): string {
  return `msg_${jobId}_${status}`;
}

/**
 * The event for an ended job. Built from the record on every attempt, with the delivery history
 * left out, so every attempt of one event carries the same body.
 */
export function buildJobEndedEvent(record: JobRecord, status: EndedJobStatus): JobEndedEvent {
  const job = toJobObject(record);
  return {
    type: `job.${status}`,
    timestamp: new Date(record.finishedAt ?? record.createdAt).toISOString(),
    data: { ...job, webhook: job.webhook === null ? null : { ...job.webhook, status: 'pending', deliveries: [] } },
  };
}
