/**
 * Durations the way OpenAI writes them in `x-ratelimit-reset-*` (Go's `time.Duration` format):
 * "0s", "120ms", "1.5s", "59.999s", "6m0s", "1h2m3s". Rounded to whole milliseconds.
 */
export function formatResetDuration(milliseconds: number): string {
  const total = Math.max(0, Math.round(milliseconds));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = (total % 60_000) / 1000;
  const secondsText = `${Number.parseFloat(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

/** State of one limit dimension for the headers. */
export interface LimitState {
  limit: number;
  remaining: number;
  /** Milliseconds until capacity next grows. */
  resetMs: number;
}

/** `x-ratelimit-*` headers for whichever dimensions are limited. */
export function rateLimitHeaders(state: {
  requests?: LimitState | undefined;
  tokens?: LimitState | undefined;
}): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const dimension of ['requests', 'tokens'] as const) {
    const limit = state[dimension];
    if (limit === undefined) continue;
    headers[`x-ratelimit-limit-${dimension}`] = String(limit.limit);
    headers[`x-ratelimit-remaining-${dimension}`] = String(Math.max(0, limit.remaining));
    headers[`x-ratelimit-reset-${dimension}`] = formatResetDuration(limit.resetMs);
  }
  return headers;
}

/** `retry-after-ms` (exact) and `retry-after` (whole seconds, rounded up), as OpenAI sends both. */
export function retryAfterHeaders(milliseconds: number | undefined): Record<string, string> {
  if (milliseconds === undefined) return {};
  const rounded = Math.max(0, Math.ceil(milliseconds));
  return { 'retry-after-ms': String(rounded), 'retry-after': String(Math.ceil(rounded / 1000)) };
}
