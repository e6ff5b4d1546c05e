/**
 * The shared rate limiter reports its state as OpenAI's `x-ratelimit-*` headers (reset as a Go
 * duration, "1.5s"); Anthropic names them `anthropic-ratelimit-{requests,tokens}-*` and gives the
 * reset as an RFC 3339 time. This module translates the one into the other.
 */

const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds of a Go duration as `formatResetDuration` writes it; undefined when unreadable. */
export function parseResetDuration(text: string): number | undefined {
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(DURATION_PART)) {
    const [whole, amount, unit] = match;
    if (amount === undefined || unit === undefined) return undefined;
    total += Number(amount) * (UNIT_MS[unit] ?? 0);
    consumed += whole.length;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

/** The time `milliseconds` from `now`, rounded up to the second, as Anthropic writes it: "2026-11-20T10:15:03Z". */
export function rfc3339After(milliseconds: number, now: number = Date.now()): string {
  const seconds = Math.ceil((now + Math.max(0, milliseconds)) / 1000);
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

const OPENAI_HEADER = /^x-ratelimit-(limit|remaining|reset)-(requests|tokens)$/;

/**
 * `headers` with every `x-ratelimit-*` header replaced by its `anthropic-ratelimit-*` twin; other
 * headers pass through unchanged.
 */
export function toAnthropicRateLimitHeaders(
  headers: Readonly<Record<string, string>>,
  now: number = Date.now(),
): Record<string, string> {
  const translated: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const match = OPENAI_HEADER.exec(name);
    const field = match?.[1];
    const dimension = match?.[2];
    if (field === undefined || dimension === undefined) {
      translated[name] = value;
      continue;
    }
    if (field === 'reset') {
      const milliseconds = parseResetDuration(value);
      if (milliseconds !== undefined)
        translated[`anthropic-ratelimit-${dimension}-reset`] = rfc3339After(milliseconds, now);
      continue;
    }
    translated[`anthropic-ratelimit-${dimension}-${field}`] = value;
  }
  return translated;
}
