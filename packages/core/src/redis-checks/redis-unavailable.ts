import { setTimeout as sleep } from 'node:timers/promises';

const REDIS_DOWN = [
  "Stream isn't writeable",
  'Connection is closed',
  'Command timed out',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'Reached the max retries per request limit',
  'LOADING',
  // Reached but refusing writes: full (noeviction), a replica, a failed RDB save, a failover.
  'OOM command not allowed',
  'READONLY',
  'MISCONF',
  'NOREPLICAS',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'TRYAGAIN',
  // A Redis Cluster between a master's loss and its replica's promotion: the slot map is stale.
  'Too many Cluster redirections',
  'ClusterAllFailedError',
  'Failed to refresh slots cache',
  'None of startup nodes is available',
];

/** Errors that mean Redis cannot take the request right now (unreachable, or refusing writes): retry, do not give up. */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const text = `${error.name} ${error.message} ${(error as { code?: string }).code ?? ''}`;
  return REDIS_DOWN.some((marker) => text.includes(marker));
}

/** Options of `untilRedisTakesIt`. */
export interface PersistOptions {
  /** Longest time to keep trying, ms. Default: 10 minutes. */
  maxMs?: number;
  /** First pause between tries, ms; it doubles up to 5 s. Default: 250. */
  firstDelayMs?: number;
  /** Called before each pause with the error that caused it. */
  onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * Runs `write` until Redis takes it: while the error is Redis being unreachable or refusing
 * writes, it waits (250 ms doubling to 5 s) and tries again, for up to `maxMs`. For writes whose
 * loss costs money or a promise: a paid provider answer, a job's end, its webhook. Any other
 * error, or the last one past `maxMs`, is thrown.
 */
export async function untilRedisTakesIt<T>(write: () => Promise<T>, options: PersistOptions = {}): Promise<T> {
  const maxMs = options.maxMs ?? 600_000;
  const started = Date.now();
  let delayMs = options.firstDelayMs ?? 250;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (!isRedisUnavailable(error) || Date.now() - started + delayMs > maxMs) throw error;
      options.onRetry?.(error, attempt);
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 5_000);
    }
  }
}
