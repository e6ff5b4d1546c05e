import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

/**
 * The lists a job waits in before a worker takes it: `wait` (FIFO), `prioritized` (by priority)
 * and `delayed` (by due time: retries' backoff, jobs parked by the limiter or the circuit).
 */
const WAITING_STATES = ['wait', 'prioritized', 'delayed'] as const;

/**
 * `llmq_queue_oldest_job_age_seconds{queue, state}`: the age (since it was queued) of the job each
 * waiting list hands out next: the oldest of `wait`, the first of `prioritized`, the first due of
 * `delayed`. Read at scrape time with BullMQ's own range reads: one element of a list or sorted set
 * (O(1) / O(log n)) and that job's hash, never a scan. An empty list reports 0; a Redis that does
 * not answer leaves the series out.
 */
export function queueAgeGauge(options: {
  queues: Queue[];
  registry: Registry;
  now?: (() => number) | undefined;
}): Gauge {
  const now = options.now ?? Date.now;
  const oldest = async (queue: Queue, state: (typeof WAITING_STATES)[number]) => {
    const [job] = await queue.getJobs([state], 0, 0, true);
    return job === undefined ? 0 : Math.max(0, now() - job.timestamp) / 1000;
  };
  return new Gauge({
    name: 'llmq_queue_oldest_job_age_seconds',
    help: 'Age of the job each waiting list (wait, prioritized, delayed) hands out next, read from Redis at scrape time; 0 when the list is empty',
    labelNames: ['queue', 'state'],
    registers: [options.registry],
    async collect() {
      const reads = options.queues.flatMap((queue) =>
        WAITING_STATES.map(async (state) => ({ queue: queue.name, state, seconds: await oldest(queue, state) })),
      );
      const ages = await Promise.all(reads).catch(() => undefined);
      this.reset();
      for (const age of ages ?? []) this.set({ queue: age.queue, state: age.state }, age.seconds);
    },
  });
}
