import { DelayedError, UnrecoverableError } from 'bullmq';
import { isRedisUnavailable, ProviderError, RetryLater, type JobError } from '@llmq/core';
import { toJobError, type JobRun } from './job-run.js';

/** Control flow BullMQ must see as thrown: everything else is classified here first. */
function isQueueControl(error: unknown): boolean {
  return error instanceof DelayedError || error instanceof UnrecoverableError || error instanceof RetryLater;
}

/**
 * The first of three layers behind "every accepted job ends": whatever a step threw that is not
 * queue control flow never reaches BullMQ's blind retries. Redis refusing a write runs the job
 * again shortly without using an attempt; anything else ends it, classified (a model the config
 * no longer serves is `invalid_request`, the rest `internal`). Always throws.
 */
export async function classifyUnexpected(run: JobRun, error: unknown): Promise<never> {
  if (isQueueControl(error)) throw error;
  if (isRedisUnavailable(error)) {
    run.log.warn({ err: error }, 'redis refused a write; the job runs again shortly');
    await run.job.moveToDelayed(Date.now() + run.parts.redisRetryDelayMs, run.token).catch(() => {
      throw error;
    });
    throw new DelayedError();
  }
  const jobError: JobError =
    error instanceof ProviderError
      ? toJobError(error)
      : {
          type: 'internal',
          message: `llmq could not run the job: ${error instanceof Error ? error.message : String(error)}`,
        };
  run.log.error({ err: error }, 'unclassified error in the job processor');
  await run.end(jobError);
  throw new UnrecoverableError(`${jobError.type}: ${jobError.message}`);
}
