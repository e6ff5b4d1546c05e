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
  /** The job's fallback models, after its model (or alias chain). */
  fallbacks?: string[];
  /** The job's own `cache.mode`: workers read the record for a cache lookup only when a cache may apply. */
  cacheMode?: 'exact' | 'semantic' | 'off';
  /** Which model of the chain is being tried (0 = the job's own). */
  modelIndex?: number;
  /** Provider calls per model before falling back. */
  attemptsPerModel: number;
  /** Time limit of one provider call, ms. */
  attemptTimeoutMs: number;
  /** The job fails with `timeout` if it has not succeeded by then (ms since the epoch). */
  deadlineAt: number;
  /** A limiter reservation: the time (ms, Redis's clock) this job was scheduled to start. */
  reservation?: number;
  /** The attempt the reservation belongs to; a retry queues afresh. */
  reservationAttempt?: number;
  /** The `provider/model` whose bucket holds the reservation, and the requests it took. */
  reservationModel?: string;
  reservationRequests?: number;
  /** The provider account whose bucket holds the reservation (a provider with accounts). */
  account?: string;
  /** Accounts this attempt's model failed on (a 429, an outage, a refused key): tried last. */
  avoidAccounts?: string[];
  /**
   * Digest of the prompt's first ~1,024 tokens (promptPrefixDigest), for a chat prompt that
   * long: jobs sharing it prefer the same provider account, where the prompt cache has it.
   */
  prefix?: string;
  /** Order among the tenant's calls waiting for a model (jobRank), when not the default 5. */
  rank?: number;
  /** `completion_window: "24h"`: the job goes through its provider's batch API where there is one. */
  deferrable?: boolean;
  /** Set once a deferrable job leaves the batch path (late batch, expired or failed line): it runs synchronously. */
  batchSkipped?: boolean;
  /**
   * W3C `traceparent` of the span that enqueued the job, so each run's spans join the job's
   * trace. Absent when tracing is off.
   */
  traceparent?: string;
}

export interface LlmQueueOptions {
  connection: ConnectionOptions;
  /**
   * How long a finished job's BullMQ entry stays (the dashboard lists these entries), in ms: as
   * long as the job record (`LLMQ_RETENTION_SECONDS`), so the board shows every job the API does.
   * Default: 7 days, the records' default.
   */
  keepFinishedMs?: number;
}

/** The backoff type whose delay the worker's processor decides (see retry-policy.ts). */
export const LLM_BACKOFF_TYPE = 'llmq';

export function llmJobOptions(options: { keepFinishedMs?: number }): JobsOptions {
  const keepSeconds = Math.floor((options.keepFinishedMs ?? 7 * 24 * 60 * 60 * 1000) / 1000);
  // By age only: a count cap would drop entries of jobs the API still shows on a busy day.
  return {
    attempts: 1,
    backoff: { type: LLM_BACKOFF_TYPE },
    removeOnComplete: { age: keepSeconds },
    removeOnFail: { age: keepSeconds },
  };
}

export function createLlmQueue(options: LlmQueueOptions): Queue<LlmJobData> {
  return new Queue<LlmJobData>(LLM_QUEUE_NAME, {
    connection: options.connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: llmJobOptions(options),
  });
}

/** Thrown by the processor to retry a job after a delay it chose; the worker's backoff reads it. */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';

  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

/** The worker's `settings.backoffStrategy`: the delay the processor put on its error. */
export function llmBackoffStrategy(_attemptsMade: number, _type?: string, error?: Error): number {
  return error instanceof RetryLater ? error.delayMs : 1_000;
}
