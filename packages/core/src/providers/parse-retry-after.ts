/** Headers as any SDK exposes them: a fetch `Headers` or a plain record. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined> | undefined | null;

function header(headers: HeaderSource, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? record[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

const DURATION = /^(\d+(?:\.\d+)?)s$/;

/** Seconds as text to whole milliseconds, rounded up, without float noise (2.007 s is 2007 ms). */
function secondsToMs(text: string): number {
  return Math.ceil(Number((Number(text) * 1000).toFixed(6)));
}

/**
 * The wait a provider asked for, in milliseconds: `retry-after-ms`, then `retry-after` as seconds
 * or an HTTP date, then Gemini's `RetryInfo.retryDelay` ("1.5s") in the error body.
 * `now` is injectable for the HTTP-date form.
 */
export function parseRetryAfter(headers: HeaderSource, body?: unknown, now: number = Date.now()): number | undefined {
  const milliseconds = header(headers, 'retry-after-ms');
  if (milliseconds !== undefined && milliseconds.trim() !== '') {
    const value = Number(milliseconds);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const retryAfter = header(headers, 'retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return secondsToMs(retryAfter);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return retryDelayFromBody(body);
}

function retryDelayFromBody(body: unknown): number | undefined {
  const details = findDetails(body);
  for (const detail of details) {
    if (typeof detail !== 'object' || detail === null) continue;
    const record = detail as Record<string, unknown>;
    const type = record['@type'];
    const delay = record.retryDelay;
    if (typeof type === 'string' && type.endsWith('google.rpc.RetryInfo') && typeof delay === 'string') {
      const match = DURATION.exec(delay.trim());
      if (match?.[1] !== undefined) return secondsToMs(match[1]);
    }
  }
  return undefined;
}

function findDetails(body: unknown): unknown[] {
  if (typeof body === 'string') {
    try {
      return findDetails(JSON.parse(body));
    } catch {
      return [];
    }
  }
  if (typeof body !== 'object' || body === null) return [];
  const record = body as Record<string, unknown>;
  const error =
    typeof record.error === 'object' && record.error !== null ? (record.error as Record<string, unknown>) : record;
  return Array.isArray(error.details) ? error.details : [];
}
