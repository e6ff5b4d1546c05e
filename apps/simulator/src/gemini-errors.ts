import type { SimulatedFailure } from './provider-endpoint.js';
import { WireError } from './wire-error.js';

/**
 * Google's error envelope (`google.rpc.Status` as JSON), exactly as the Gemini API sends it:
 * `{"error": {"code", "message", "status", "details"?}}`. Details carry typed messages
 * (`google.rpc.RetryInfo`, `QuotaFailure`, `ErrorInfo`, `BadRequest`) keyed by `@type`.
 */
export interface GoogleErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] };
}

const TYPE_PREFIX = 'type.googleapis.com/google.rpc.';
const SERVICE = 'generativelanguage.googleapis.com';
const RATE_LIMIT_DOCS = 'https://ai.google.dev/gemini-api/docs/rate-limits';

export function googleError(code: number, status: string, message: string, details?: unknown[]): WireError {
  const body: GoogleErrorBody = { error: { code, message, status, ...(details ? { details } : {}) } };
  return new WireError(code, body, message);
}

/** One `google.rpc.BadRequest` field violation; `field` uses the proto (snake_case) path, absent at the top. */
export interface FieldViolation {
  field?: string;
  description: string;
}

/** A 400 INVALID_ARGUMENT, with a `BadRequest` detail when the fault is tied to fields. */
export function invalidArgument(message: string, violations: readonly FieldViolation[] = []): WireError {
  const details =
    violations.length > 0 ? [{ '@type': `${TYPE_PREFIX}BadRequest`, fieldViolations: [...violations] }] : undefined;
  return googleError(400, 'INVALID_ARGUMENT', message, details);
}

/** A 404 NOT_FOUND, as for an unknown model or method. */
export function notFound(message: string): WireError {
  return googleError(404, 'NOT_FOUND', message);
}

/** Seconds in `google.protobuf.Duration` JSON form: "36s", "1.5s", "0.05s". */
export function formatDuration(milliseconds: number): string {
  const whole = Math.max(0, Math.round(milliseconds));
  return `${whole / 1000}s`;
}

function retryInfo(milliseconds: number): unknown {
  return { '@type': `${TYPE_PREFIX}RetryInfo`, retryDelay: formatDuration(milliseconds) };
}

function help(): unknown {
  return {
    '@type': `${TYPE_PREFIX}Help`,
    links: [{ description: 'Learn more about Gemini API quotas', url: RATE_LIMIT_DOCS }],
  };
}

interface QuotaViolation {
  metric: string;
  quotaId: string;
  limit: number;
  model?: string | undefined;
}

function quotaFailure(violation: QuotaViolation): unknown {
  return {
    '@type': `${TYPE_PREFIX}QuotaFailure`,
    violations: [
      {
        quotaMetric: violation.metric,
        quotaId: violation.quotaId,
        quotaDimensions: { location: 'global', ...(violation.model ? { model: violation.model } : {}) },
        quotaValue: String(violation.limit),
      },
    ],
  };
}

function quotaMessage(violation: QuotaViolation, retryAfterMs: number | undefined): string {
  const model = violation.model ? `, model: ${violation.model}` : '';
  const retry = retryAfterMs === undefined ? '' : `\nPlease retry in ${formatDuration(retryAfterMs)}.`;
  return (
    `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: ${RATE_LIMIT_DOCS}. ` +
    `To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n` +
    `* Quota exceeded for metric: ${violation.metric}, limit: ${violation.limit}${model}${retry}`
  );
}

/** Per-minute quotas, named as the Gemini API names them in `QuotaFailure` violations. */
const PER_MINUTE_QUOTAS = {
  requests: { metric: `${SERVICE}/generate_content_requests`, quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' },
  tokens: {
    metric: `${SERVICE}/generate_content_input_token_count`,
    quotaId: 'GenerateContentInputTokensPerModelPerMinute',
  },
} as const;

/** The per-day quota the `insufficient_quota` fault stands for: the free tier's daily requests. */
export const DAILY_QUOTA = {
  metric: `${SERVICE}/generate_content_free_tier_requests`,
  quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
  limit: 250,
} as const;

/** Renders a provider-neutral failure as the Gemini API would send it. */
export function renderGeminiFailure(failure: SimulatedFailure): WireError {
  switch (failure.kind) {
    case 'missing_api_key':
      return googleError(
        403,
        'PERMISSION_DENIED',
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    case 'invalid_api_key': {
      // The real service answers 400, not 401, and never echoes the key.
      const message = 'API key not valid. Please pass a valid API key.';
      return googleError(400, 'INVALID_ARGUMENT', message, [
        {
          '@type': `${TYPE_PREFIX}ErrorInfo`,
          reason: 'API_KEY_INVALID',
          domain: 'googleapis.com',
          metadata: { service: SERVICE },
        },
        { '@type': `${TYPE_PREFIX}LocalizedMessage`, locale: 'en-US', message },
      ]);
    }
    case 'rate_limit': {
      const violation = { ...PER_MINUTE_QUOTAS[failure.limitType], limit: failure.limit, model: failure.model };
      const retryAfterMs = failure.tooLarge ? undefined : failure.retryAfterMs;
      const details = [quotaFailure(violation), help()];
      if (retryAfterMs !== undefined) details.push(retryInfo(retryAfterMs));
      return googleError(429, 'RESOURCE_EXHAUSTED', quotaMessage(violation, retryAfterMs), details);
    }
    case 'insufficient_quota':
      return googleError(429, 'RESOURCE_EXHAUSTED', quotaMessage(DAILY_QUOTA, undefined), [
        quotaFailure(DAILY_QUOTA),
        help(),
      ]);
    case 'server_error':
      return googleError(
        500,
        'INTERNAL',
        'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      );
    case 'overloaded':
      return googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
    case 'not_found':
      return notFound(`Method not found: ${failure.method} ${failure.path}`);
    case 'invalid_json':
      return invalidArgument('Invalid JSON payload received. Unexpected token.', [
        { description: 'Invalid JSON payload received. Unexpected token.' },
      ]);
    case 'body_too_large':
      return invalidArgument(`Request payload size exceeds the limit: ${failure.limitBytes} bytes.`);
  }
}
