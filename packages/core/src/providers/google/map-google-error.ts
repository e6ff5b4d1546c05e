import { ApiError } from '@google/genai';
import { z } from 'zod';
import { parseRetryAfter } from '../parse-retry-after.js';
import { kindFromStatus, ProviderError, type ProviderErrorKind } from '../provider-error.js';

// Google's `{"error": {code, message, status, details}}`; only the fields llmq reads.
const googleErrorBodySchema = z.object({
  error: z.object({
    message: z.string().optional(),
    status: z.string().optional(),
    details: z.array(z.unknown()).optional(),
  }),
});
export type GoogleErrorBody = z.infer<typeof googleErrorBodySchema>;

const errorInfoSchema = z.object({ '@type': z.string().endsWith('google.rpc.ErrorInfo'), reason: z.string() });
const quotaFailureSchema = z.object({
  '@type': z.string().endsWith('google.rpc.QuotaFailure'),
  violations: z.array(z.object({ quotaId: z.string().optional() })),
});

/** Reasons of a 400 that are really a bad credential. */
const CREDENTIAL_REASONS = new Set(['API_KEY_INVALID', 'API_KEY_EXPIRED']);

/**
 * The error body inside an `ApiError` message: the SDK puts the JSON there, after a
 * `got status: ...` prefix when the error arrived inside the stream.
 */
export function parseGoogleErrorBody(message: string): GoogleErrorBody | undefined {
  const start = message.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed = googleErrorBodySchema.safeParse(JSON.parse(message.slice(start)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function details<T>(body: GoogleErrorBody | undefined, schema: z.ZodType<T>): T[] {
  return (body?.error.details ?? []).flatMap((detail) => {
    const parsed = schema.safeParse(detail);
    return parsed.success ? [parsed.data] : [];
  });
}

/** A per-day quota is gone until the next day: waiting minutes and retrying cannot help. */
function isDailyQuota(body: GoogleErrorBody | undefined): boolean {
  return details(body, quotaFailureSchema).some((failure) =>
    failure.violations.some((violation) => violation.quotaId?.includes('PerDay') === true),
  );
}

function kindOf(status: number, body: GoogleErrorBody | undefined): ProviderErrorKind {
  if (details(body, errorInfoSchema).some((info) => CREDENTIAL_REASONS.has(info.reason))) return 'authentication';
  if (status === 429) return isDailyQuota(body) ? 'quota_exceeded' : 'rate_limit';
  // DEADLINE_EXCEEDED: the model ran out of Google's own time limit; a retry may fit.
  if (status === 504) return 'timeout';
  return kindFromStatus(status);
}

function fromApiError(provider: string, error: ApiError): ProviderError {
  const body = parseGoogleErrorBody(error.message);
  const status = body?.error.status ? ` ${body.error.status}` : '';
  const detail = body?.error.message ?? error.message;
  const retryAfterMs = parseRetryAfter(undefined, body);
  return new ProviderError({
    provider,
    kind: kindOf(error.status, body),
    status: error.status,
    message: `${error.status}${status}: ${detail}`,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    cause: error,
  });
}

/** What undici reports for a failed connection: `fetch failed` / `terminated`, the socket error as cause. */
function connectionFailure(error: Error): string | undefined {
  const cause: unknown = error.cause;
  if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string') return cause.message;
  if (error instanceof TypeError && (error.message === 'fetch failed' || error.message === 'terminated')) {
    return cause instanceof Error ? cause.message : error.message;
  }
  // The SDK's own words for a stream that stopped mid-event.
  if (error.message.startsWith('Incomplete JSON segment')) return 'the stream ended mid-event';
  return undefined;
}

/** Turns anything the @google/genai SDK throws into a ProviderError. */
export function mapGoogleError(provider: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof ApiError) return fromApiError(provider, error);
  if (error instanceof Error && error.name === 'AbortError') {
    return new ProviderError({ provider, kind: 'canceled', message: 'the call was aborted', cause: error });
  }
  if (error instanceof Error) {
    const reason = connectionFailure(error);
    if (reason !== undefined) {
      return new ProviderError({ provider, kind: 'connection', message: `connection failed: ${reason}`, cause: error });
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError({ provider, kind: 'provider_error', message, cause: error });
}
