import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { BatchLines, JobStore, JobSubmission, Logger } from '@llmq/core';
import type { JobCanceller } from '../../job-cancel.js';
import type { BatchMetrics } from '../../metrics/batch-metrics.js';
import { acceptChunk, existingJobIds, type BatchAcceptanceOptions } from './batch-acceptance.js';
import type { BatchFileStore } from './batch-file-store.js';
import { writeBatchFiles } from './batch-finalize.js';
import { intakeBatch } from './batch-intake.js';
import type { BatchObject } from './batch-object.js';
import type { BatchEnding, BatchProgress, BatchStopReason } from './batch-progress-fields.js';
import { settleRecord, settleSample } from './batch-progress.js';
import type { BatchStore } from './batch-store.js';

/** Lines accepted per step: one budget hold, one pipeline of record writes, one addBulk. */
export const LINES_PER_CHUNK = 500;
/** Jobs canceled per step, and at once within it. */
const CANCELS_PER_STEP = 200;
const CANCELS_AT_ONCE = 50;
/** A holder renews the lock every step; a holder that died frees the batch this long after. */
const DEFAULT_LOCK_MS = 30_000;

const seconds = (ms: number) => Math.floor(ms / 1000);
const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface BatchRunnerOptions {
  batches: BatchStore;
  files: BatchFileStore;
  store: JobStore;
  acceptance: BatchAcceptanceOptions;
  cancelJob: JobCanceller;
  submissionSchema: z.ZodType<JobSubmission>;
  /** What each line becomes: a deferrable job (`defer`) or an ordinary one (`run`). */
  lines: BatchLines;
  metrics: BatchMetrics;
  logger: Logger;
  /** How long a batch's lock outlives a holder that stopped renewing it, ms. Default 30 s. */
  lockMs?: number;
}

/**
 * A batch's work after `POST /v1/batches` answered: validating its file, accepting its lines in
 * chunks, canceling its jobs when cancelled or expired, writing its files. The work runs in the
 * background under a lock in Redis, its progress (a cursor) stored as it goes, so whichever API
 * process next reads the batch takes over what a process that died left half done.
 */
export class BatchRunner {
  readonly #options: BatchRunnerOptions;
  readonly #lockMs: number;
  /** Batches this process is working on: a read does not ask Redis for their lock again. */
  readonly #running = new Set<string>();

  constructor(options: BatchRunnerOptions) {
    this.#options = options;
    this.#lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
  }

  /** Starts the batch's outstanding work in the background, unless it is running here or elsewhere. */
  kick(tenant: string, batch: BatchObject): void {
    if (!isActive(batch)) return;
    const key = `${tenant}\n${batch.id}`;
    if (this.#running.has(key)) return;
    this.#running.add(key);
    this.run(tenant, batch.id)
      .catch((error: unknown) => this.#options.logger.warn({ err: error, batchId: batch.id }, 'batch work stopped'))
      .finally(() => this.#running.delete(key));
  }

  /** Does the batch's outstanding work if this caller gets its lock; resolves when it stops. */
  async run(tenant: string, batchId: string): Promise<void> {
    const { batches } = this.#options;
    const token = randomUUID();
    if (!(await batches.lock(tenant, batchId, token, this.#lockMs))) return;
    const keepLock = () => batches.renewLock(tenant, batchId, token, this.#lockMs);
    try {
      while (await keepLock()) {
        const more = await this.#step(tenant, batchId, keepLock);
        if (!more) return;
        await pause();
      }
    } finally {
      await batches.unlock(tenant, batchId, token).catch(() => undefined);
    }
  }

  /** One bounded step of the batch's work; false when nothing more can be done now. */
  async #step(tenant: string, batchId: string, keepLock: () => Promise<boolean>): Promise<boolean> {
    const { batches, store } = this.#options;
    const [batch, progress] = await Promise.all([batches.get(tenant, batchId), batches.progress(tenant, batchId)]);
    if (batch === null || !isActive(batch)) return false;
    if (progress.cursor === null && progress.cancelAt === null && batch.status !== 'validating') {
      // A batch made before batches ran in the background: its jobs were all accepted at its creation.
      const total = batch.request_counts.total;
      await batches.setProgress(tenant, batchId, {
        cursor: total,
        total,
        ...(batch.status === 'cancelling' ? { ending: 'cancelled' } : {}),
      });
      return true;
    }
    if (progress.cursor === null) {
      const taken = await intakeBatch({ ...this.#options, tenant, batch });
      if (taken.status === 'failed') this.#options.metrics.ended(taken);
      return taken.status !== 'failed';
    }
    const ending = progress.ending ?? endingOf(batch, progress);
    if (ending !== null && progress.ending === null) {
      await batches.setProgress(tenant, batchId, { ending });
      if (ending === 'cancelled') await batches.save(tenant, { ...batch, status: 'cancelling' });
      return true;
    }
    if (progress.stoppedAt === null && progress.cursor < progress.total) {
      if (ending !== null)
        await this.#stopAcceptance(tenant, batchId, { at: progress.cursor, reason: ending, message: '' });
      else await this.#acceptNext(tenant, batchId, progress, progress.cursor);
      return true;
    }
    if (ending !== null) {
      const pending = await batches.pendingSample(tenant, batchId, CANCELS_PER_STEP);
      if (pending.length > 0) {
        await this.#cancel(tenant, batchId, pending);
        return true;
      }
    } else if ((await settleSample({ batches, store, redis: this.#options.acceptance.redis, tenant, batchId })) > 0)
      return false;
    await this.#finalize(tenant, batch, progress, keepLock);
    return false;
  }

  async #acceptNext(tenant: string, batchId: string, progress: BatchProgress, start: number): Promise<void> {
    const { batches } = this.#options;
    const [lines, requests] = await Promise.all([
      batches.lines(tenant, batchId, start, LINES_PER_CHUNK),
      batches.requests(tenant, batchId, start, LINES_PER_CHUNK),
    ]);
    const outcome = await acceptChunk(this.#options.acceptance, { tenant, start, lines, requests });
    const next = start + lines.length;
    await batches.commitChunk(tenant, batchId, { jobIds: outcome.jobIds, problems: outcome.problems, next });
    if (outcome.refused !== undefined) {
      // The budget refused the chunk's new jobs: the rest of the file goes to the error file (402).
      await this.#stopAcceptance(tenant, batchId, { at: start, reason: 'budget_exceeded', message: outcome.refused });
    } else if (next >= progress.total) await batches.dropRequests(tenant, batchId);
  }

  /**
   * Accepts no more lines from `at` on; the lines not accepted are counted failed. Jobs that an
   * interrupted chunk made at `at` become pending first, so the wind-down cancels them too.
   */
  async #stopAcceptance(
    tenant: string,
    batchId: string,
    stop: { at: number; reason: BatchStopReason; message: string },
  ): Promise<void> {
    const { batches } = this.#options;
    if (stop.reason !== 'budget_exceeded') {
      const lines = await batches.lines(tenant, batchId, stop.at, LINES_PER_CHUNK);
      const made = await existingJobIds(this.#options.acceptance.redis, tenant, lines);
      await batches.commitChunk(tenant, batchId, { jobIds: made, problems: new Map(), next: stop.at });
    }
    const progress = await batches.progress(tenant, batchId);
    await batches.stopAcceptance(tenant, batchId, {
      ...stop,
      notAccepted: Math.max(0, progress.valid - progress.accepted - progress.rejected),
    });
  }

  /** Cancels pending jobs as DELETE /v1/jobs/{id} does; a job that ended first counts as it ended. */
  async #cancel(tenant: string, batchId: string, jobIds: string[]): Promise<void> {
    const { batches, store, cancelJob } = this.#options;
    for (let start = 0; start < jobIds.length; start += CANCELS_AT_ONCE) {
      await Promise.all(
        jobIds.slice(start, start + CANCELS_AT_ONCE).map(async (jobId) => {
          const canceled = await cancelJob(tenant, jobId);
          if (canceled.outcome === 'ok') await batches.settle(tenant, batchId, jobId, 'failed');
          else await settleRecord({ batches, tenant, batchId, jobId, record: await store.get(tenant, jobId) });
        }),
      );
    }
  }

  /** Writes the files and ends the batch: completed, cancelled or expired. */
  async #finalize(
    tenant: string,
    batch: BatchObject,
    progress: BatchProgress,
    keepLock: () => Promise<boolean>,
  ): Promise<void> {
    const { batches } = this.#options;
    let current = batch;
    if (progress.ending === null && current.status !== 'finalizing') {
      current = { ...current, status: 'finalizing', finalizing_at: seconds(Date.now()) };
      await batches.save(tenant, current);
    }
    const written = await writeBatchFiles({ ...this.#options, tenant, batch: current, progress, keepLock });
    if (written === null) return;
    const now = seconds(Date.now());
    const ended: BatchObject = {
      ...current,
      output_file_id: written.outputFileId,
      error_file_id: written.errorFileId,
      ...(progress.ending === 'cancelled'
        ? { status: 'cancelled' as const, cancelled_at: now }
        : progress.ending === 'expired'
          ? { status: 'expired' as const, expired_at: now }
          : { status: 'completed' as const, completed_at: now }),
    };
    await batches.save(tenant, ended);
    this.#options.metrics.ended((await batches.get(tenant, batch.id)) ?? ended);
  }
}

/** Whether the batch still has work: not yet ended. */
export function isActive(batch: BatchObject): boolean {
  return ['validating', 'in_progress', 'finalizing', 'cancelling'].includes(batch.status);
}

/** How the batch must wind down now: a cancel was asked, or its window passed before its jobs all ended. */
function endingOf(batch: BatchObject, progress: BatchProgress): BatchEnding | null {
  // Every job has ended once the files are being written: nothing is left to wind down.
  if (batch.status === 'finalizing') return null;
  if (progress.cancelAt !== null) return 'cancelled';
  if (batch.expires_at !== null && Date.now() >= batch.expires_at * 1000) {
    return 'expired';
  }
  return null;
}
