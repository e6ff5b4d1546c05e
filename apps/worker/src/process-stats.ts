import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from '@llmq/core';

/**
 * Logs, every `intervalMs`, the calls in flight, the event-loop delay (p50/p99 since the last
 * line) and the memory in use: what an operator needs to size WORKER_CONCURRENCY.
 */
export function startProcessStats(options: { logger: Logger; intervalMs: number; inFlight: () => number }): {
  stop: () => void;
} {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const timer = setInterval(() => {
    const memory = process.memoryUsage();
    options.logger.info(
      {
        inFlight: options.inFlight(),
        eventLoopDelayP50Ms: Number((delay.percentile(50) / 1e6).toFixed(2)),
        eventLoopDelayP99Ms: Number((delay.percentile(99) / 1e6).toFixed(2)),
        rssMb: Number((memory.rss / 2 ** 20).toFixed(1)),
        heapUsedMb: Number((memory.heapUsed / 2 ** 20).toFixed(1)),
      },
      'worker stats',
    );
    delay.reset();
  }, options.intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      delay.disable();
    },
  };
}
