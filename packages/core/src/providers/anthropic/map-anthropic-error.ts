import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { parseRetryAfter } from '../parse-retry-after.js';
import { kindFromStatus, ProviderError, type ProviderErrorKind } from '../provider-error.js';

/** `error.details.error_code` values that mean the money ran out: waiting does not help. */
const QUOTA_CODES: ReadonlySet<string> = new Set([
  'contract_spend_limit_reached',
  'enforced_spend_limit_reached',
  'linked_organization_spend_limit_reached',
  'linked_organization_billing_unavailable',
  'user_profile_billing_not_authorized',
  'user_profile_not_billable',
]);

/** Anthropic's `error.type`, which also names errors sent inside a stream (no HTTP status then). */
const KIND_BY_TYPE: Readonly<Record<string, ProviderErrorKind>> = {
  authentication_error: 'authentication',
  permission_error: 'permission',
  billing_error: 'quota_exceeded',
  rate_limit_error: 'rate_limit',
  overloaded_error: 'overloaded',
  api_error: 'provider_error',
  timeout_error: 'timeout',
  invalid_request_error: 'invalid_request',
  not_found_error: 'invalid_request',
  request_too_large: 'invalid_request',
};

function kindOf(error: APIError): ProviderErrorKind {
  const code = error.errorCode;
  if (code !== null && QUOTA_CODES.has(code)) return 'quota_exceeded';
  if (code === 'organization_on_hold') return 'permission';
  if (error.status === 402) return 'quota_exceeded';
  // An empty prepaid balance comes as a 400 invalid_request_error: only the message tells.
  if (/credit balance/i.test(error.apiMessage ?? '')) return 'quota_exceeded';
  const byType = error.type === null ? undefined : KIND_BY_TYPE[error.type];
  if (byType !== undefined) return byType;
  return error.status === undefined ? 'provider_error' : kindFromStatus(error.status);
}

function describe(error: APIError): string {
  const label = [error.status, error.type].filter((part) => part !== undefined && part !== null).join(' ');
  const where = error.status === undefined ? ' in the stream' : '';
  return `${label}${where}: ${error.apiMessage ?? error.message}`;
}

/** Turns anything the Anthropic SDK throws into a ProviderError. */
export function mapAnthropicError(provider: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof APIUserAbortError) {
    return new ProviderError({ provider, kind: 'canceled', message: 'the call was aborted', cause: error });
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new ProviderError({
      provider,
      kind: 'timeout',
      message: 'the provider did not answer in time',
      cause: error,
    });
  }
  if (error instanceof APIConnectionError) {
    const reason = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return new ProviderError({ provider, kind: 'connection', message: `connection failed${reason}`, cause: error });
  }
  if (error instanceof APIError) {
    return new ProviderError({
      provider,
      kind: kindOf(error),
      ...(error.status !== undefined ? { status: error.status } : {}),
      message: describe(error),
      retryAfterMs: parseRetryAfter(error.headers, error.error),
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError({ provider, kind: 'provider_error', message, cause: error });
}
