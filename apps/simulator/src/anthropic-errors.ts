import { randomBytes } from 'node:crypto';
import { rfc3339After } from './anthropic-rate-limit-headers.js';
import type { SimulatedFailure } from './provider-endpoint.js';
import { WireError } from './wire-error.js';

/** Anthropic's error envelope, exactly as the API sends it (the `request_id` is new in 2026-10-21). */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id: string;
}

/** A fresh `req_...` id; the API answers every response with one (body and `request-id` header). */
export function anthropicRequestId(): string {
  return `req_${randomBytes(12).toString('hex')}`;
}

export function anthropicError(
  status: number,
  type: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): WireError {
  const requestId = anthropicRequestId();
  const body: AnthropicErrorBody = { type: 'error', error: { type, message }, request_id: requestId };
  return new WireError(status, body, message, { 'request-id': requestId, ...headers });
}

export function anthropicInvalidRequest(message: string): WireError {
  return anthropicError(400, 'invalid_request_error', message);
}

type RateLimitFailure = Extract<SimulatedFailure, { kind: 'rate_limit' }>;

/** `retry-after` in whole seconds and the limited dimension's `anthropic-ratelimit-*` state. */
function rateLimitFailureHeaders(failure: RateLimitFailure): Record<string, string> {
  const dimension = failure.limitType === 'requests' ? 'requests' : 'tokens';
  const headers: Record<string, string> = {
    [`anthropic-ratelimit-${dimension}-limit`]: String(failure.limit),
    [`anthropic-ratelimit-${dimension}-remaining`]: String(Math.max(0, failure.limit - failure.used)),
  };
  if (failure.retryAfterMs !== undefined) {
    headers[`anthropic-ratelimit-${dimension}-reset`] = rfc3339After(failure.retryAfterMs);
    headers['retry-after'] = String(Math.max(1, Math.ceil(failure.retryAfterMs / 1000)));
  }
  return headers;
}

/** Renders a provider-neutral failure as Anthropic would send it. */
export function renderAnthropicFailure(failure: SimulatedFailure): WireError {
  switch (failure.kind) {
    case 'missing_api_key':
      return anthropicError(401, 'authentication_error', 'x-api-key header is required');
    case 'invalid_api_key':
      return anthropicError(401, 'authentication_error', 'invalid x-api-key');
    case 'rate_limit': {
      const unit = failure.limitType === 'requests' ? 'requests' : 'tokens';
      const message = failure.tooLarge
        ? `This request alone (${failure.requested} ${unit}) exceeds the rate limit for your organization of ${failure.limit} ${unit} per minute. Please reduce the prompt length or the maximum tokens requested.`
        : `This request would exceed the rate limit for your organization (${failure.organization ?? failure.model}) of ${failure.limit} ${unit} per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.`;
      return anthropicError(429, 'rate_limit_error', message, rateLimitFailureHeaders(failure));
    }
    case 'insufficient_quota':
      // Anthropic reports an empty prepaid balance as a 400, not a 429: only the message tells.
      return anthropicInvalidRequest(
        'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
      );
    case 'server_error':
      return anthropicError(500, 'api_error', 'Internal server error');
    case 'overloaded':
      return anthropicError(529, 'overloaded_error', 'Overloaded');
    case 'not_found':
      return anthropicError(404, 'not_found_error', `Not found: ${failure.method} ${failure.path}`);
    case 'invalid_json':
      return anthropicInvalidRequest('There was an issue with the request body: it is not valid JSON.');
    case 'body_too_large':
      return anthropicError(
        413,
        'request_too_large',
        `Request exceeds the maximum allowed number of bytes (${failure.limitBytes}).`,
      );
  }
}
