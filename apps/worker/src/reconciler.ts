import { setTimeout as sleep } from 'node:timers/promises';
import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  JobLifecycle,
  KEY_NAMESPACE,
  untilRedisTakesIt,
  type JobError,
  type JobStatus,
  type JobStore,
  type LlmJobData,
  type Logger,
} from '@llmq/core';

export interface ReconcilerOptions {
  redis: Redis;
  queue: Queue<LlmJobData>;
  store: JobStore;
  logger: Logger;
  /** Time between passes, ms. Default 60 s. */
  intervalMs?: number;
  /** A record younger than this, or a queue entry that finished less than this ago, is left alone, ms. Default 60 s. */
  graceMs?: number;
  /** Records checked per tenant and status in one pass. Default 500. */
  batch?: number;
  /** How long an end is retried while Redis refuses writes, ms. Default 10 min. */
  redisPatienceMs?: number;
}

/** Held by the worker running a pass, so that one runs at a time across the deployment. */
const PASS_LOCK_KEY = `${KEY_NAMESPACE}:{reconciler}`;
const OPEN_STATUSES: readonly JobStatus[] = ['queued', 'running'];

/**
 * The last of three layers behind "every accepted job ends": on every worker, one at a time
 * across the deployment, it looks at records that have not ended and ends those nothing will
 * ever end: no queue entry (lost), a queue entry BullMQ finished without ending the record, or a
 * job past its deadline that no worker holds. Cheap per pass: at most `batch` records per tenant
 * and status, oldest first, one queue read each.
 */
export function startReconciler(options: ReconcilerOptions): { stop(): void; pass(): Promise<number> } {
  const intervalMs = options.intervalMs ?? 60_000;
  const graceMs = options.graceMs ?? 60_000;
  const batch = options.batch ?? 500;
  let stopped = false;
  const lifecycle = new JobLifecycle(options.store);

  const end = async (tenant: string, jobId: string, error: JobError): Promise<boolean> => {
    const ended = await untilRedisTakesIt(() => lifecycle.fail({ tenant, jobId, error, at: Date.now() }), {
      maxMs: options.redisPatienceMs,
    });
    if (ended !== 'ended') return false;
    options.logger.warn({ tenant, jobId, kind: error.type, err: error.message }, 'reconciler ended a job');
    return true;
  };

  /** What is wrong with one open record, or null when something will still end it. */
  const problem = async (jobId: string, now: number): Promise<JobError | null> => {
    const job = await Job.fromId<LlmJobData>(options.queue, jobId);
    if (job === undefined) return { type: 'internal', message: 'llmq lost the job: it has no queue entry' };
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') {
      if (now - (job.finishedOn ?? now) < graceMs) return null;
      return { type: 'internal', message: `llmq lost the job: its queue entry ${state} without ending it` };
    }
    if (now > job.data.deadlineAt + graceMs && state !== 'active') {
      await job.remove().catch(() => undefined);
      return { type: 'timeout', message: 'the job passed its deadline' };
    }
    return null;
  };

  const pass = async (): Promise<number> => {
    const took = await options.redis.set(PASS_LOCK_KEY, '1', 'PX', intervalMs, 'NX');
    if (took !== 'OK') return 0;
    let ended = 0;
    const now = Date.now();
    for (const tenant of await options.store.tenants()) {
      for (const status of OPEN_STATUSES) {
        for (const jobId of await options.store.idsCreatedBefore(tenant, status, now - graceMs, batch)) {
          const found = await problem(jobId, now);
          if (found !== null && (await end(tenant, jobId, found))) ended += 1;
        }
      }
    }
    return ended;
  };

  void (async () => {
    while (!stopped) {
      // Unreferenced: a pending pass never keeps a stopping worker alive.
      await sleep(intervalMs, undefined, { ref: false });
      if (stopped) break;
      await pass().catch((error: unknown) => options.logger.warn({ err: error }, 'reconciler pass failed'));
    }
  })();

  return {
    pass,
    stop: () => {
      stopped = true;
    },
  };
}
