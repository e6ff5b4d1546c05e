import type { Queue } from 'bullmq';
import {
  createJobId,
  type BudgetGuard,
  type JobRecord,
  type JobStore,
  type JobSubmission,
  type LlmJobData,
  type ModelCatalog,
} from '@llmq/core';
import type { JobPolicy } from './config.js';
import { HttpError } from './http-error.js';
import { planEnqueue, type EnqueuePlan } from './job-enqueue.js';
import { startEnqueueSpans } from './tracing/enqueue-span.js';

export interface JobAcceptorOptions {
  queue: Queue<LlmJobData>;
  store: JobStore;
  catalog: ModelCatalog;
  /** Output tokens reserved for a request without max_tokens. */
  defaultOutputTokens: number;
  jobPolicy: JobPolicy;
  /** Monthly budgets: reserved at submit (402 `budget_exceeded` when over). Default: none. */
  budget?: BudgetGuard;
}

/** Writes a tenant's validated submissions as job records and enqueues them; `jobIds` names them (default: new ids). */
export type JobAcceptor = (tenant: string, submissions: JobSubmission[], jobIds?: string[]) => Promise<JobRecord[]>;

/**
 * The one submission path of every route that creates jobs (`/v1/jobs`, `/v1/chat/completions`...):
 * all jobs are accepted, or none, and on a failed enqueue nothing is left behind.
 */
export function createJobAcceptor(options: JobAcceptorOptions): JobAcceptor {
  const { queue, store } = options;
  return async (tenant, submissions, jobIds = []) => {
    const createdAt = Date.now();
    // One after another: each estimate pauses for the event loop, and a batch of 1,000 large
    // jobs must not start 1,000 of them at once.
    const accepted: Array<{ jobId: string; submission: JobSubmission; plan: EnqueuePlan }> = [];
    for (const [index, submission] of submissions.entries()) {
      const jobId = jobIds[index] ?? createJobId(createdAt);
      const plan = await planEnqueue({
        tenant,
        jobId,
        createdAt,
        submission,
        catalog: options.catalog,
        policy: options.jobPolicy,
        defaultOutputTokens: options.defaultOutputTokens,
      });
      accepted.push({ jobId, submission, plan });
    }
    const hold = await options.budget?.hold(
      tenant,
      accepted.map(({ submission, plan }) => ({ submission, tokens: plan.data.tokens })),
    );
    if (hold?.ok === false) throw new HttpError(402, 'budget_exceeded', hold.message, hold.details);
    const created = await Promise.allSettled(
      accepted.map(async ({ jobId, submission }, index) => {
        const extraFields = hold?.fieldsFor(index);
        const record = await store.create({
          tenant,
          jobId,
          submission,
          createdAt,
          ...(extraFields ? { extraFields } : {}),
        });
        if (record === null) throw new HttpError(503, 'unavailable', 'a job id was taken; retry');
        return record;
      }),
    );
    const records = created.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const failure = created.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) {
      // All or none: the records this call did write go too (a taken id is another's job, left alone).
      await Promise.all(records.map((record) => store.discard(tenant, record.id).catch(() => undefined)));
      await hold?.release();
      throw failure.reason;
    }
    // Each job's trace context goes into its queue data (absent when tracing is off).
    const enqueueSpans = startEnqueueSpans(accepted.map(({ jobId, plan }) => ({ jobId, data: plan.data })));
    try {
      if (accepted.length === 1 && accepted[0]) {
        const { jobId, submission, plan } = accepted[0];
        await queue.add(submission.type, plan.data, { jobId, attempts: plan.attempts });
      } else {
        await queue.addBulk(
          accepted.map(({ jobId, submission, plan }) => ({
            name: submission.type,
            data: plan.data,
            opts: { jobId, attempts: plan.attempts },
          })),
        );
      }
    } catch (error) {
      enqueueSpans.end(error);
      await Promise.all(accepted.map(({ jobId }) => store.discard(tenant, jobId).catch(() => undefined)));
      await hold?.release().catch(() => undefined);
      throw error;
    }
    enqueueSpans.end();
    return records;
  };
}
