import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { kindFromStatus, ProviderError, type ProviderErrorKind } from '../provider-error.js';
import { parseRetryAfter } from '../parse-retry-after.js';

const QUOTA_CODES = new Set(['insufficient_quota', 'billing_hard_limit_reached', 'billing_not_active']);

/** Turns anything the openai SDK throws into a ProviderError. */
export function mapOpenAIError(provider: string, error: unknown): ProviderError {
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
  if (error instanceof APIError && error.status !== undefined) {
    const code = error.code ?? error.type ?? undefined;
    let kind: ProviderErrorKind = kindFromStatus(error.status);
    if (code !== undefined && QUOTA_CODES.has(code)) kind = 'quota_exceeded';
    return new ProviderError({
      provider,
      kind,
      status: error.status,
      message: providerMessage(error),
      retryAfterMs: parseRetryAfter(error.headers, error.error),
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError({ provider, kind: 'provider_error', message, cause: error });
}

function providerMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  const detail = typeof body?.message === 'string' ? body.message : error.message;
  return `${error.status ?? ''} ${detail}`.trim();
}
