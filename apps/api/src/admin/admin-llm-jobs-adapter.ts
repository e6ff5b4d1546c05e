import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { Job, Queue } from 'bullmq';
import { z } from 'zod';
import { CorruptJobRecordError, type JobRecord, type JobStore, type LlmJobData } from '@llmq/core';
import { humanDuration, isoTime, llmJobRecordView, llmJobTitle } from './admin-job-view.js';

/** How a field of a job's queue data is shown; `false`: not at all. */
export type FieldDisplay = 'as-is' | 'time' | 'duration' | false;

// What the dashboard shows of an LLM job's queue data: chosen field by field, so a field added to
// the job data later stays hidden until someone decides it carries no secret (the compiler asks).
const LLM_JOB_FIELDS_SHOWN: Record<keyof LlmJobData, FieldDisplay> = {
  tenant: 'as-is',
  jobId: 'as-is',
  type: 'as-is',
  model: 'as-is',
  tokens: 'as-is',
  inputs: 'as-is',
  fallbacks: 'as-is',
  cacheMode: 'as-is',
  modelIndex: 'as-is',
  attemptsPerModel: 'as-is',
  attemptTimeoutMs: 'duration',
  deadlineAt: 'time',
  reservation: 'time',
  reservationAttempt: 'as-is',
  reservationModel: 'as-is',
  reservationRequests: 'as-is',
  // Account names, never keys; the prefix is a digest, not the prompt.
  account: 'as-is',
  avoidAccounts: 'as-is',
  prefix: false,
  rank: 'as-is',
  deferrable: 'as-is',
  batchSkipped: 'as-is',
  // Trace and span ids only: the way from the board to the job's trace.
  traceparent: 'as-is',
};

/** The fields of `data` that `shown` lists, times and durations made readable. */
export function shownFields(shown: Record<string, FieldDisplay>, data: unknown): Record<string, unknown> {
  if (typeof data !== 'object' || data === null) return {};
  const fields: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(data)) {
    const display = shown[field];
    if (display === 'as-is') fields[field] = value;
    else if (display !== undefined && display !== false && typeof value === 'number')
      fields[field] = display === 'time' ? isoTime(value) : humanDuration(value);
  }
  return fields;
}

/** What a queue entry names of its job record. */
const jobReference = z.object({ tenant: z.string().min(1), jobId: z.string().min(1) });

type RecordRead = { record: JobRecord } | { record: null; problem: string };

/**
 * bull-board's BullMQ adapter over the LLM queue, showing each job as llmq knows it: the jobs it
 * reads are fresh copies used only for display (the board is read-only), and each gets its
 * record's status, models, attempts, usage, cost, metadata and webhook from the job store.
 * BullMQ's own entry carries only references, and its state says nothing of how the job ended.
 */
export class LlmJobsBoardAdapter extends BullMQAdapter {
  readonly #store: JobStore;

  constructor(queue: Queue<LlmJobData>, store: JobStore, options: { description: string }) {
    super(queue, { readOnlyMode: true, allowRetries: false, description: options.description });
    this.#store = store;
  }

  override async getJob(id: string): Promise<Job | undefined> {
    const job = await super.getJob(id);
    if (job) await this.#present([job]);
    return job;
  }

  override async getJobs(...query: Parameters<BullMQAdapter['getJobs']>): Promise<Job[]> {
    const jobs = await super.getJobs(...query);
    await this.#present(jobs);
    return jobs;
  }

  async #read(data: unknown): Promise<RecordRead> {
    const reference = jobReference.safeParse(data);
    if (!reference.success) return { record: null, problem: 'no job reference' };
    const { tenant, jobId } = reference.data;
    try {
      const record = await this.#store.get(tenant, jobId);
      return record ? { record } : { record: null, problem: 'the record has expired or was never written' };
    } catch (error) {
      if (error instanceof CorruptJobRecordError) return { record: null, problem: error.message };
      throw error;
    }
  }

  async #present(jobs: Job[]): Promise<void> {
    const reads = await Promise.all(jobs.map((job) => this.#read(job.data)));
    for (const [position, job] of jobs.entries()) {
      const read = reads[position];
      if (read === undefined) continue;
      const queue = shownFields(LLM_JOB_FIELDS_SHOWN, job.data);
      if (read.record === null) {
        job.name = `no record · ${String(queue.type ?? job.name)} · ${String(queue.model ?? '')}`;
        job.data = { record: read.problem, queue };
        continue;
      }
      const view = llmJobRecordView(read.record);
      job.name = llmJobTitle(read.record);
      job.data = { ...view, queue };
      // Replaces the worker's internal run outcome (`skipped` for a canceled job, for instance).
      job.returnvalue =
        view.finished !== null
          ? {
              status: view.status,
              answered_by: view.answered_by,
              ...('account' in view ? { account: view.account } : {}),
              usage: view.usage,
            }
          : null;
      // The board marks a job with a reason as failed: every end that is not a success gets one.
      if (view.status === 'failed' || view.status === 'canceled') job.failedReason = view.error ?? view.status;
    }
  }
}
