import { Job, QueueEvents, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  JobLifecycle,
  LLM_QUEUE_NAME,
  QUEUE_PREFIX,
  untilRedisTakesIt,
  type JobError,
  type JobStore,
  type LlmJobData,
  type Logger,
} from '@llmq/core';

export interface FinalFailureWatchOptions {
  /** A connection of its own: QueueEvents blocks on the events stream. */
  connection: Redis;
  queue: Queue<LlmJobData>;
  store: JobStore;
  logger: Logger;
  /** How long an end is retried while Redis refuses writes, ms. Default 10 min. */
  redisPatienceMs?: number;
}

/**
 * BullMQ fails some jobs for good with no processor run to see it: a job whose workers died or
 * stalled more than the stall limit allows, or one whose last attempt threw what Redis refused.
 * This ends their records `failed` (type `internal`, BullMQ's reason) and announces the end, so
 * no such job stays `queued` or `running`. A failure the processor already recorded is a no-op:
 * the transition only moves records that have not ended.
 */
export async function watchFinalFailures(options: FinalFailureWatchOptions): Promise<{ close(): Promise<void> }> {
  // Read from the stream's end as it is now, not from wherever it is when the reading starts
  // (QueueEvents names its connection first): a job failed in between is not missed.
  const [last] = await options.connection.xrevrange(options.queue.keys.events ?? '', '+', '-', 'COUNT', 1);
  const events = new QueueEvents(LLM_QUEUE_NAME, {
    connection: options.connection,
    prefix: QUEUE_PREFIX,
    lastEventId: last?.[0] ?? '0-0',
  });
  events.on('error', (error) => options.logger.warn({ err: error }, 'queue events error'));
  events.on('failed', ({ jobId, failedReason }) => {
    void endRecord(options, jobId, failedReason).catch((error: unknown) =>
      options.logger.warn({ err: error, jobId }, 'could not end the record of a job BullMQ failed'),
    );
  });
  await events.waitUntilReady();
  return { close: () => events.close() };
}

async function endRecord(options: FinalFailureWatchOptions, bullJobId: string, reason: string): Promise<void> {
  const job = await Job.fromId<LlmJobData>(options.queue, bullJobId);
  if (job === undefined) return;
  const { tenant, jobId } = job.data;
  const error: JobError = { type: 'internal', message: `llmq gave the job up: ${reason}` };
  const ended = await untilRedisTakesIt(
    () =>
      new JobLifecycle(options.store).fail({ tenant, jobId, error, at: Date.now(), details: { type: job.data.type } }),
    { maxMs: options.redisPatienceMs },
  );
  if (ended !== 'ended') return;
  options.logger.warn({ jobId, tenant, reason }, 'job failed by the queue itself');
}
