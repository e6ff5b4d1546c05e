import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  jobRecordKey,
  RECORD_FIELD,
  type JobStore,
  type JobSubmission,
  type LlmJobData,
  type ModelCatalog,
} from '@llmq/core';
import type { JobPolicy } from '../../config.js';
import { HttpError } from '../../http-error.js';
import type { JobAcceptor } from '../../job-acceptance.js';
import { planEnqueue } from '../../job-enqueue.js';
import type { BatchLineRef } from './batch-store.js';

export interface BatchAcceptanceOptions {
  accept: JobAcceptor;
  redis: Redis;
  queue: Queue<LlmJobData>;
  store: JobStore;
  catalog: ModelCatalog;
  jobPolicy: JobPolicy;
  defaultOutputTokens: number;
}

/** What accepting one chunk of lines did. */
export interface ChunkOutcome {
  /** Jobs of the chunk that exist now (made by this call, or by an interrupted earlier one). */
  jobIds: string[];
  /** Line index -> why the job checks refused the line (a 4xx). */
  problems: Map<number, string>;
  /** The budget refused the chunk's new jobs: none of them was made. */
  refused?: string;
}

interface ChunkLine {
  index: number;
  jobId: string;
  submission: JobSubmission;
}

/**
 * Accepts a chunk of a batch's lines through the one submission path, idempotently: a line's job
 * id is fixed (batchJobId), so a line whose job already exists (a chunk retaken after a crash) is
 * not made again; if that job never reached the queue it is enqueued now (BullMQ ignores an id it has).
 */
export async function acceptChunk(
  options: BatchAcceptanceOptions,
  chunk: { tenant: string; start: number; lines: BatchLineRef[]; requests: string[] },
): Promise<ChunkOutcome> {
  const { tenant } = chunk;
  const candidates: ChunkLine[] = [];
  for (const [position, line] of chunk.lines.entries()) {
    const request = chunk.requests[position];
    if (!('jobId' in line) || request === undefined || request === '') continue;
    candidates.push({
      index: chunk.start + position,
      jobId: line.jobId,
      submission: JSON.parse(request) as JobSubmission,
    });
  }
  if (candidates.length === 0) return { jobIds: [], problems: new Map() };
  const statuses = await readStatuses(options.redis, tenant, candidates);
  const existing = candidates.filter((_, position) => statuses[position] !== null);
  const fresh = candidates.filter((_, position) => statuses[position] === null);
  await enqueueAgain(
    options,
    tenant,
    existing.filter((line) => statuses[candidates.indexOf(line)] === 'queued'),
  );
  const jobIds = existing.map((line) => line.jobId);
  const problems = new Map<number, string>();
  if (fresh.length === 0) return { jobIds, problems };
  try {
    await options.accept(
      tenant,
      fresh.map((line) => line.submission),
      fresh.map((line) => line.jobId),
    );
    return { jobIds: [...jobIds, ...fresh.map((line) => line.jobId)], problems };
  } catch (error) {
    if (!(error instanceof HttpError) || error.status >= 500) throw error;
    if (error.status === 402) return { jobIds, problems, refused: error.message };
  }
  // A job check refused one of the lines (e.g. attempts over this deployment's bound): one by one, to fail only those.
  for (const line of fresh) {
    try {
      await options.accept(tenant, [line.submission], [line.jobId]);
      jobIds.push(line.jobId);
    } catch (error) {
      if (!(error instanceof HttpError) || error.status >= 500) throw error;
      if (error.status === 402) return { jobIds, problems, refused: error.message };
      problems.set(line.index, error.message);
    }
  }
  return { jobIds, problems };
}

/**
 * The jobs that exist among these lines': when acceptance stops at a line (cancel, expiry), the
 * chunk a dead process was accepting there may have made some; they must be pending to be canceled.
 */
export async function existingJobIds(redis: Redis, tenant: string, lines: BatchLineRef[]): Promise<string[]> {
  const jobIds = lines.flatMap((line) => ('jobId' in line ? [line.jobId] : []));
  if (jobIds.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const jobId of jobIds) pipeline.exists(jobRecordKey(tenant, jobId));
  const replies = (await pipeline.exec()) ?? [];
  return jobIds.filter((_, position) => replies[position]?.[1] === 1);
}

/** Each line's job status, null where its job does not exist. */
async function readStatuses(redis: Redis, tenant: string, lines: ChunkLine[]): Promise<Array<string | null>> {
  const pipeline = redis.pipeline();
  for (const line of lines) pipeline.hget(jobRecordKey(tenant, line.jobId), RECORD_FIELD.status);
  const replies = (await pipeline.exec()) ?? [];
  return lines.map((_, position) => {
    const [error, status] = replies[position] ?? [null, null];
    if (error) throw error;
    return typeof status === 'string' ? status : null;
  });
}

/** Puts queued jobs (made before a crash, perhaps never enqueued) on the queue; a job the queue has stays as it is. */
async function enqueueAgain(options: BatchAcceptanceOptions, tenant: string, lines: ChunkLine[]): Promise<void> {
  if (lines.length === 0) return;
  const jobs = [];
  for (const line of lines) {
    const record = await options.store.get(tenant, line.jobId);
    if (record === null || record.status !== 'queued') continue;
    const plan = await planEnqueue({
      tenant,
      jobId: line.jobId,
      createdAt: record.createdAt,
      submission: record.submission,
      catalog: options.catalog,
      policy: options.jobPolicy,
      defaultOutputTokens: options.defaultOutputTokens,
    });
    jobs.push({ name: record.submission.type, data: plan.data, opts: { jobId: line.jobId, attempts: plan.attempts } });
  }
  if (jobs.length > 0) await options.queue.addBulk(jobs);
}
