/**
 * Waits before each retry of a delivery: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, so eight
 * attempts span about 28 hours, long enough to ride out a receiver's bad day.
 */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** Share of each delay drawn at random either way, so retries of many events spread out. */
export const DEFAULT_WEBHOOK_RETRY_JITTER = 0.1;

export interface WebhookRetryScheduleOptions {
  /** Delay before retry n (ms) at index n - 1. Default: DEFAULT_WEBHOOK_RETRY_DELAYS_MS. */
  delaysMs?: readonly number[];
  /** Jitter as a share of the delay, 0..1. Default: 0.1 (±10 %). */
  jitter?: number;
  /** Source of randomness in [0, 1). Default: Math.random. */
  random?: () => number;
}

/** Attempts a delivery gets: the first, then one per scheduled retry. */
export function webhookMaxAttempts(options: WebhookRetryScheduleOptions = {}): number {
  return (options.delaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS).length + 1;
}

/**
 * The wait (ms) after failed attempt number `attemptsMade` (1-based), or -1 when the schedule
 * is used up; BullMQ reads -1 from a backoff strategy as "do not retry".
 */
export function webhookRetryDelayMs(attemptsMade: number, options: WebhookRetryScheduleOptions = {}): number {
  const delay = (options.delaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS)[attemptsMade - 1];
  if (delay === undefined) return -1;
  const jitter = options.jitter ?? DEFAULT_WEBHOOK_RETRY_JITTER;
  const random = options.random ?? Math.random;
  return Math.max(0, Math.round(delay * (1 + jitter * (2 * random() - 1))));
}

/** A BullMQ `settings.backoffStrategy` following the schedule. */
export function createWebhookBackoffStrategy(options: WebhookRetryScheduleOptions = {}) {
  return (attemptsMade: number): number => webhookRetryDelayMs(attemptsMade, options);
}
