import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { JobType } from '../jobs/job-submission-schema.js';

/** BullMQ key prefix; the hash tag keeps each queue's keys in one Redis Cluster slot. */
export const QUEUE_PREFIX = '{llmq}';

/** The queue of chat and embedding jobs. */
export const LLM_QUEUE_NAME = 'llm-jobs';

/**
 * What BullMQ carries for a job: only references. Requests stay in the job record, so prompts
 * and their contents never show in the dashboard or BullMQ's own keys.
 */
export interface LlmJobData {
  tenant: string;
  jobId: string;
  type: JobType;
  model: string;
  /** Tokens the limiter reserves for the call: prompt estimate + maximum output. */
  tokens: number;
  /** Embedding inputs; the worker turns them into provider calls of its batch size. */
  inputs?: number;
  /** A limiter reservation: the time (ms, Redis's clock) this job was scheduled to start. */
  reservation?: number;
  /** The attempt the reservation belongs to; a retry queues afresh. */
  reservationAttempt?: number;
}

export interface LlmQueueOptions {
  connection: ConnectionOptions;
  /** Provider attempts per job before it fails. Default: 5. */
  attempts?: number;
  /** How long a finished job's BullMQ entry stays visible on the dashboard, in ms. Default: 1 day. */
  keepFinishedMs?: number;
}

export function llmJobOptions(options: { attempts?: number; keepFinishedMs?: number }): JobsOptions {
  const keepSeconds = Math.floor((options.keepFinishedMs ?? 24 * 60 * 60 * 1000) / 1000);
  return {
    attempts: options.attempts ?? 5,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: keepSeconds, count: 1000 },
    removeOnFail: { age: keepSeconds, count: 1000 },
  };
}

export function createLlmQueue(options: LlmQueueOptions): Queue<LlmJobData> {
  return new Queue<LlmJobData>(LLM_QUEUE_NAME, {
    connection: options.connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: llmJobOptions(options),
  });
}
