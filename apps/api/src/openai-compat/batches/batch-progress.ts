import type { Redis } from 'ioredis';
import { jobRecordKey, RECORD_FIELD, type JobRecord, type JobStore } from '@llmq/core';
import type { BatchStore, LineUsage } from './batch-store.js';

/** Jobs of a batch checked per read: the cost of a read stays bounded, the counts converge. */
export const CHECKS_PER_READ = 1_000;
/** Records read at once. */
const RECORDS_PER_STEP = 200;

/** Statuses of a job not yet ended. */
const RUNNING = new Set(['queued', 'running']);

const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : 0);

/**
 * The tokens of a succeeded line: the job's usage, with the cached and reasoning tokens of the
 * provider's answer where it reports them (OpenAI's `*_tokens_details`), else 0.
 */
export function lineUsageOf(record: JobRecord): LineUsage {
  const reported = (record.result as { usage?: Record<string, unknown> } | null)?.usage ?? {};
  const details = (name: string) => (reported[name] ?? {}) as Record<string, unknown>;
  return {
    input_tokens: count(record.usage?.input_tokens),
    cached_tokens: count(details('prompt_tokens_details').cached_tokens),
    output_tokens: count(record.usage?.output_tokens),
    reasoning_tokens: count(details('completion_tokens_details').reasoning_tokens),
  };
}

/** Counts an ended job's line (a missing record, gone with its retention, counts failed); false while it runs. */
export async function settleRecord(options: {
  batches: BatchStore;
  tenant: string;
  batchId: string;
  jobId: string;
  record: JobRecord | null;
}): Promise<boolean> {
  const { batches, tenant, batchId, jobId, record } = options;
  if (record === null) await batches.settle(tenant, batchId, jobId, 'failed');
  else if (record.status === 'succeeded') {
    await batches.settle(tenant, batchId, jobId, 'completed', lineUsageOf(record));
  } else if (record.status === 'failed' || record.status === 'canceled') {
    await batches.settle(tenant, batchId, jobId, 'failed');
  } else return false;
  return true;
}

/**
 * Notices the ends of up to CHECKS_PER_READ of a batch's pending jobs: the API, not the worker,
 * sees them, so the worker needs no batch logic. Only the status of each is read first; the whole
 * record only of a job that ended. Answers how many are still pending.
 */
export async function settleSample(options: {
  batches: BatchStore;
  store: JobStore;
  redis: Redis;
  tenant: string;
  batchId: string;
}): Promise<number> {
  const { batches, store, redis, tenant, batchId } = options;
  const sample = await batches.pendingSample(tenant, batchId, CHECKS_PER_READ);
  for (let start = 0; start < sample.length; start += RECORDS_PER_STEP) {
    const jobIds = sample.slice(start, start + RECORDS_PER_STEP);
    const pipeline = redis.pipeline();
    for (const jobId of jobIds) pipeline.hget(jobRecordKey(tenant, jobId), RECORD_FIELD.status);
    const statuses = ((await pipeline.exec()) ?? []).map(([, status]) => status);
    const ended = jobIds.filter((_, index) => !RUNNING.has(String(statuses[index])));
    const records = await Promise.all(ended.map((jobId) => store.get(tenant, jobId)));
    await Promise.all(
      ended.map((jobId, index) => settleRecord({ batches, tenant, batchId, jobId, record: records[index] ?? null })),
    );
  }
  return batches.pendingCount(tenant, batchId);
}
