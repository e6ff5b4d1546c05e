import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { LLM_QUEUE_NAME, QUEUE_PREFIX, type Logger } from '@llmq/core';

/**
 * Exits the process when jobs are waiting and this worker has finished none for `stuckAfterMs`:
 * a wedged worker (a lost connection that never came back, a blocked loop) is better restarted
 * by its supervisor than left holding a place in the fleet.
 */
export function startWatchdog(options: {
  worker: Worker;
  redis: Redis;
  logger: Logger;
  stuckAfterMs: number;
  intervalMs: number;
}): { stop: () => void } {
  if (options.stuckAfterMs <= 0) return { stop: () => {} };
  let lastProgress = Date.now();
  const progress = () => (lastProgress = Date.now());
  options.worker.on('completed', progress);
  options.worker.on('failed', progress);
  const waitKey = `${QUEUE_PREFIX}:${LLM_QUEUE_NAME}:wait`;
  const timer = setInterval(() => {
    void (async () => {
      if (Date.now() - lastProgress < options.stuckAfterMs) return;
      const waiting = await options.redis.llen(waitKey).catch(() => 0);
      if (waiting === 0) {
        progress();
        return;
      }
      options.logger.fatal(
        { waiting, idleMs: Date.now() - lastProgress },
        'watchdog: jobs wait and none finished; exiting',
      );
      process.exit(1);
    })();
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
