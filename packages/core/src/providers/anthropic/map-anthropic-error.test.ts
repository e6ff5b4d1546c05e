import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { mapAnthropicError } from './map-anthropic-error.js';

function httpError(
  status: number,
  type: string,
  message: string,
  options: { code?: string; headers?: Record<string, string> } = {},
) {
  const error = { type, message, ...(options.code !== undefined ? { details: { error_code: options.code } } : {}) };
  return APIError.generate(status, { type: 'error', error }, undefined, new Headers(options.headers ?? {}));
}

describe('mapAnthropicError', () => {
  it.each([
    [
      '401 authentication_error',
      httpError(401, 'authentication_error', 'invalid x-api-key'),
      { kind: 'authentication', status: 401, retryable: false },
    ],
    [
      '403 permission_error',
      httpError(403, 'permission_error', 'no access to this model'),
      { kind: 'permission', status: 403, retryable: false },
    ],
    [
      '404 not_found_error',
      httpError(404, 'not_found_error', 'model: claude-x'),
      { kind: 'invalid_request', status: 404, retryable: false },
    ],
    [
      '413 request_too_large',
      httpError(413, 'request_too_large', 'Request exceeds the maximum size'),
      { kind: 'invalid_request', status: 413, retryable: false },
    ],
    [
      '429 rate_limit_error',
      httpError(429, 'rate_limit_error', 'slow down', { headers: { 'retry-after': '7' } }),
      { kind: 'rate_limit', status: 429, retryable: true, retryAfterMs: 7000 },
    ],
    [
      '429 ramp_limit_exceeded',
      httpError(429, 'rate_limit_error', 'ramp', { code: 'ramp_limit_exceeded' }),
      { kind: 'rate_limit', retryable: true },
    ],
    [
      '429 enforced_spend_limit_reached',
      httpError(429, 'rate_limit_error', 'spend limit', { code: 'enforced_spend_limit_reached' }),
      { kind: 'quota_exceeded', status: 429, retryable: false },
    ],
    [
      '400 credit balance',
      httpError(400, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API.'),
      { kind: 'quota_exceeded', status: 400, retryable: false },
    ],
    [
      '400 billing_error',
      httpError(400, 'billing_error', 'billing problem'),
      { kind: 'quota_exceeded', retryable: false },
    ],
    [
      '402 linked organization',
      httpError(402, 'billing_error', 'cannot bill', { code: 'linked_organization_billing_unavailable' }),
      { kind: 'quota_exceeded', status: 402, retryable: false },
    ],
    [
      '400 organization_on_hold',
      httpError(400, 'invalid_request_error', 'on hold', { code: 'organization_on_hold' }),
      { kind: 'permission', retryable: false },
    ],
    [
      '400 invalid_request_error',
      httpError(400, 'invalid_request_error', 'messages: Field required'),
      { kind: 'invalid_request', status: 400, retryable: false },
    ],
    [
      '500 api_error',
      httpError(500, 'api_error', 'Internal server error'),
      { kind: 'provider_error', status: 500, retryable: true },
    ],
    [
      '504 timeout_error',
      httpError(504, 'timeout_error', 'Request timed out'),
      { kind: 'timeout', status: 504, retryable: true },
    ],
    [
      '529 overloaded_error',
      httpError(529, 'overloaded_error', 'Overloaded'),
      { kind: 'overloaded', status: 529, retryable: true },
    ],
    [
      '502 with no body',
      APIError.generate(502, undefined, 'Bad gateway', new Headers()),
      { kind: 'provider_error', status: 502, retryable: true },
    ],
  ] as const)('maps %s', (_name, error, expected) => {
    expect(mapAnthropicError('anthropic', error)).toMatchObject({ provider: 'anthropic', ...expected });
  });

  it('maps an error event inside a stream by its type, without a status', () => {
    const body = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    const mapped = mapAnthropicError(
      'anthropic',
      new APIError(undefined, body, undefined, new Headers(), 'overloaded_error'),
    );
    expect(mapped).toMatchObject({ kind: 'overloaded', status: undefined, retryable: true });
    expect(mapped.message).toBe('overloaded_error in the stream: Overloaded');
  });

  it('keeps the provider message and maps transport failures', () => {
    expect(mapAnthropicError('anthropic', httpError(529, 'overloaded_error', 'Overloaded')).message).toBe(
      '529 overloaded_error: Overloaded',
    );
    expect(mapAnthropicError('a', new APIUserAbortError())).toMatchObject({ kind: 'canceled', retryable: false });
    expect(mapAnthropicError('a', new APIConnectionTimeoutError())).toMatchObject({ kind: 'timeout', retryable: true });
    const reset = new APIConnectionError({ cause: new Error('read ECONNRESET') });
    expect(mapAnthropicError('a', reset)).toMatchObject({
      kind: 'connection',
      message: 'connection failed: read ECONNRESET',
    });
    expect(mapAnthropicError('a', new SyntaxError('bad json'))).toMatchObject({
      kind: 'provider_error',
      retryable: true,
    });
  });
});
