import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { KEY_NAMESPACE, type LimitRules, type LlmJobData, type Logger, type RateLimiter } from '@llmq/core';

/** Models whose fair queues hold calls, by the time a call last queued there (every worker writes it). */
export const FAIR_MODELS_KEY = `${KEY_NAMESPACE}:{fair-models}`;

// A queue not written to for a day has been ticked empty long since.
const REGISTRY_AGE_MS = 86_400_000;
// Another worker's queued calls are ticked here within this long, even if that worker died.
const REFRESH_MS = 2_000;
// Clocks of different hosts may differ this much.
const CLOCK_SLACK_MS = 5_000;

export interface FairDispatcher {
  /** Wakes jobs whose calls were granted their turn: from delayed to waiting. */
  wake(jobIds: string[]): void;
  /** A call queued on the model: tick it. */
  queuedOn(model: string): void;
  stop(): Promise<void>;
}

/**
 * The fair queues' clock. Calls waiting for their fair turn are granted whenever some limiter run
 * finds room; this makes one run per active model every `intervalMs` (20 ms, or a quarter of the
 * horizon), so refilled capacity is granted without waiting for an event. Every worker ticks every
 * active model: the script is idempotent and cheap, and a worker that dies leaves no queue
 * unticked.
 */
export function startFairDispatcher(options: {
  redis: Redis;
  limiter: RateLimiter;
  rules: LimitRules;
  queue: Queue<LlmJobData>;
  logger: Logger;
  intervalMs: number;
}): FairDispatcher {
  const { redis, limiter, rules, queue, logger } = options;
  const active = new Set<string>();
  const emptySince = new Map<string, number>();
  const announced = new Map<string, number>();
  let stopped = false;
  let ticking: Promise<void> = Promise.resolve();

  const wake = (jobIds: string[]) => {
    for (const jobId of jobIds) {
      // A job no longer delayed (still parking, or gone) cannot be promoted: it checks for its
      // grant once parked (admit-call.ts), or has ended.
      void Job.fromId(queue, jobId)
        .then((job) => job?.promote())
        .catch(() => undefined);
    }
  };

  const tick = async () => {
    for (const model of [...active]) {
      const limits = rules.forModel(model, '');
      if (limits?.fair === undefined) {
        active.delete(model);
        continue;
      }
      const { queued, granted } = await limiter.fairTick({ model, limits });
      wake(granted);
      if (queued === 0) {
        active.delete(model);
        emptySince.set(model, Date.now());
      }
    }
  };

  const refresh = async () => {
    const now = Date.now();
    const entries = await redis.zrangebyscore(FAIR_MODELS_KEY, now - REGISTRY_AGE_MS, '+inf', 'WITHSCORES');
    for (let index = 0; index + 1 < entries.length; index += 2) {
      const model = entries[index];
      if (model === undefined) continue;
      if (Number(entries[index + 1]) > (emptySince.get(model) ?? 0) - CLOCK_SLACK_MS) active.add(model);
    }
    await redis.zremrangebyscore(FAIR_MODELS_KEY, '-inf', now - REGISTRY_AGE_MS);
  };

  const ticker = setInterval(() => {
    ticking = ticking.then(tick).catch((error: unknown) => logger.warn({ err: error }, 'fair dispatcher tick failed'));
  }, options.intervalMs);
  const refresher = setInterval(() => {
    void refresh().catch((error: unknown) => logger.warn({ err: error }, 'fair dispatcher refresh failed'));
  }, REFRESH_MS);
  ticker.unref();
  refresher.unref();
  void refresh().catch(() => undefined);

  return {
    wake,
    queuedOn(model) {
      if (stopped) return;
      active.add(model);
      const now = Date.now();
      if (now - (announced.get(model) ?? 0) < 1_000) return;
      announced.set(model, now);
      void redis.zadd(FAIR_MODELS_KEY, now, model).catch(() => undefined);
    },
    async stop() {
      stopped = true;
      clearInterval(ticker);
      clearInterval(refresher);
      await ticking;
    },
  };
}
