import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  JOB_CANCEL_CHANNEL,
  JobLifecycle,
  releaseParkedReservation,
  traceFields,
  type BudgetGuard,
  type JobStore,
  type LimitRules,
  type LlmJobData,
  type RateLimiter,
  type TransitionOutcome,
} from '@llmq/core';

export interface JobCancelOptions {
  store: JobStore;
  queue: Queue<LlmJobData>;
  /** Publishes cancel signals to the workers. */
  redis: Redis;
  /** Monthly budgets: a canceled job's hold is released. Default: none. */
  budget?: BudgetGuard;
  /** The limiter, so a job canceled while parked gives its reserved slot back. Default: none (the slot refills within a minute). */
  limiter?: { limiter: RateLimiter; rules: LimitRules };
}

/** Cancels a tenant's job as a client asked: the record's transition, then the queue and the worker. */
export type JobCanceller = (tenant: string, jobId: string) => Promise<TransitionOutcome>;

/** The one cancel path of every route that cancels jobs (`DELETE /v1/jobs/{id}`, a batch's cancel). */
export function createJobCanceller(options: JobCancelOptions): JobCanceller {
  const lifecycle = new JobLifecycle(options.store);
  return async (tenant, jobId) => {
    const money = options.budget?.endWithoutAnswer(tenant);
    // The cancel's end, and the webhook it sends, are traced under the request (when tracing is on).
    const canceled = await lifecycle.cancel({
      tenant,
      jobId,
      at: Date.now(),
      ...(money ? { ledger: money } : {}),
      details: traceFields(),
    });
    if (canceled.outcome === 'missing' || canceled.outcome === 'conflict') return canceled;
    // A queued or parked job leaves the queue; a running one is aborted by whichever worker holds it.
    const queued = await options.queue.getJob(jobId).catch(() => undefined);
    const [removed] = await Promise.all([
      options.queue.remove(jobId).catch(() => 0),
      options.redis.publish(JOB_CANCEL_CHANNEL, JSON.stringify({ tenant, id: jobId })),
    ]);
    // Removed means no worker held it: a parked job's reserved slot goes to the jobs behind it.
    if (removed === 1 && queued !== undefined && options.limiter) {
      await releaseParkedReservation({ ...options.limiter, data: queued.data, attemptsMade: queued.attemptsMade });
    }
    return canceled;
  };
}
