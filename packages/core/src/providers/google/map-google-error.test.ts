import { ApiError } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../provider-error.js';
import { mapGoogleError } from './map-google-error.js';

const rpc = (type: string, fields: Record<string, unknown>) => ({
  '@type': `type.googleapis.com/google.rpc.${type}`,
  ...fields,
});

/** An ApiError as the SDK builds it: the status, and the JSON body as the message. */
function apiError(code: number, status: string, message: string, details: unknown[] = []): ApiError {
  return new ApiError({ status: code, message: JSON.stringify({ error: { code, message, status, details } }) });
}

describe('mapGoogleError', () => {
  it.each([
    ['a bad request', apiError(400, 'INVALID_ARGUMENT', 'bad'), { kind: 'invalid_request', retryable: false }],
    [
      'an invalid API key (a 400)',
      apiError(400, 'INVALID_ARGUMENT', 'API key not valid.', [rpc('ErrorInfo', { reason: 'API_KEY_INVALID' })]),
      { kind: 'authentication', status: 400, retryable: false },
    ],
    ['a failed precondition', apiError(400, 'FAILED_PRECONDITION', 'region'), { kind: 'invalid_request' }],
    ['401', apiError(401, 'UNAUTHENTICATED', 'who'), { kind: 'authentication' }],
    ['403', apiError(403, 'PERMISSION_DENIED', 'no'), { kind: 'permission', retryable: false }],
    ['404', apiError(404, 'NOT_FOUND', 'no model'), { kind: 'invalid_request' }],
    [
      'a per-minute quota',
      apiError(429, 'RESOURCE_EXHAUSTED', 'slow down', [
        rpc('QuotaFailure', { violations: [{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' }] }),
        rpc('RetryInfo', { retryDelay: '36s' }),
      ]),
      { kind: 'rate_limit', retryable: true, retryAfterMs: 36_000 },
    ],
    [
      'a per-day quota',
      apiError(429, 'RESOURCE_EXHAUSTED', 'gone', [
        rpc('QuotaFailure', { violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }] }),
      ]),
      { kind: 'quota_exceeded', retryable: false },
    ],
    ['500', apiError(500, 'INTERNAL', 'oops'), { kind: 'provider_error', retryable: true }],
    ['503', apiError(503, 'UNAVAILABLE', 'The model is overloaded.'), { kind: 'overloaded', retryable: true }],
    ['504', apiError(504, 'DEADLINE_EXCEEDED', 'too slow'), { kind: 'timeout', retryable: true }],
  ] as const)('maps %s', (_name, error, expected) => {
    expect(mapGoogleError('google', error)).toMatchObject({ provider: 'google', status: error.status, ...expected });
  });

  it('reads the body of an error sent inside the stream, and keeps Google’s wording', () => {
    const body = { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } };
    const error = new ApiError({ status: 503, message: `got status: UNAVAILABLE. ${JSON.stringify(body)}` });
    expect(mapGoogleError('google', error)).toMatchObject({
      kind: 'overloaded',
      message: '503 UNAVAILABLE: The model is overloaded.',
    });
  });

  it('maps network failures, aborts and anything else', () => {
    const reset = new TypeError('fetch failed', {
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    });
    expect(mapGoogleError('google', reset)).toMatchObject({ kind: 'connection', retryable: true });
    expect(mapGoogleError('google', new TypeError('terminated'))).toMatchObject({ kind: 'connection' });
    expect(mapGoogleError('google', new Error('Incomplete JSON segment at the end'))).toMatchObject({
      kind: 'connection',
    });
    const abort = new DOMException('This operation was aborted', 'AbortError');
    expect(mapGoogleError('google', abort)).toMatchObject({ kind: 'canceled', retryable: false });
    expect(mapGoogleError('google', new Error('odd'))).toMatchObject({ kind: 'provider_error', message: 'odd' });
    const own = new ProviderError({ provider: 'google', kind: 'timeout', message: 'late' });
    expect(mapGoogleError('google', own)).toBe(own);
  });
});
