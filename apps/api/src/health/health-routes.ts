import { Router } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export interface HealthRoutesOptions {
  /** The command connection every route uses. */
  redis: Redis;
  /** The queues the API writes to; each must answer a read. */
  queues: Queue[];
  /** True once the process is shutting down, so balancers stop sending it requests. Default: never. */
  draining?: () => boolean;
  /** Longest wait for one check, ms. Default: 1,000. */
  timeoutMs?: number;
}

async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Written by every readiness check; expires by itself. */
const READINESS_KEY = 'llmq:{readyz}';

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * `GET /healthz`: the process is up (liveness; no dependency is asked, so a Redis outage never
 * restarts it). `GET /readyz`: Redis answers and the queues can be read (readiness: 503 with the
 * reason otherwise, and while shutting down).
 */
export function healthRoutes(options: HealthRoutesOptions): Router {
  const timeoutMs = options.timeoutMs ?? 1_000;
  const router = Router();

  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });

  router.get('/readyz', async (_request, response) => {
    const unready = (message: string) =>
      response
        .status(503)
        .set('cache-control', 'no-store')
        .json({ error: { type: 'unavailable', message } });
    if (options.draining?.()) return unready('shutting down');
    try {
      await within(options.redis.ping(), timeoutMs, 'redis');
    } catch (error) {
      return unready(`redis is unreachable: ${reason(error)}`);
    }
    try {
      // A Redis that answers but refuses writes (full, a replica, a failed save) takes no job.
      await within(options.redis.set(READINESS_KEY, String(Date.now()), 'PX', 10_000), timeoutMs, 'redis');
    } catch (error) {
      return unready(`redis refuses writes: ${reason(error)}`);
    }
    for (const queue of options.queues) {
      try {
        // A read through BullMQ's own scripts: proves the queue's keys and scripts answer.
        await within(queue.getJobCounts('wait'), timeoutMs, `queue "${queue.name}"`);
      } catch (error) {
        return unready(`queue "${queue.name}" is unusable: ${reason(error)}`);
      }
    }
    response.set('cache-control', 'no-store').json({ status: 'ready' });
  });

  return router;
}
