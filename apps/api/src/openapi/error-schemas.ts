import { z } from 'zod';
import { JOB_STATUSES } from '@llmq/core';
import type { ApiErrorType } from '../http-error.js';

/**
 * The status every API error type is answered with, and its schema's name in the document.
 * `satisfies` makes a new ApiErrorType fail to compile until it is documented here.
 */
export const ERROR_TYPES = {
  invalid_request: { status: 400, component: 'InvalidRequestError' },
  authentication: { status: 401, component: 'AuthenticationError' },
  budget_exceeded: { status: 402, component: 'BudgetExceededError' },
  forbidden: { status: 403, component: 'ForbiddenError' },
  not_found: { status: 404, component: 'NotFoundError' },
  method_not_allowed: { status: 405, component: 'MethodNotAllowedError' },
  conflict: { status: 409, component: 'ConflictError' },
  payload_too_large: { status: 413, component: 'PayloadTooLargeError' },
  unsupported_media_type: { status: 415, component: 'UnsupportedMediaTypeError' },
  idempotency_conflict: { status: 422, component: 'IdempotencyConflictError' },
  rate_limited: { status: 429, component: 'RateLimitedError' },
  internal: { status: 500, component: 'InternalError' },
  unavailable: { status: 503, component: 'UnavailableError' },
} as const satisfies Record<ApiErrorType, { status: number; component: string }>;

const message = z.string().describe('what went wrong, naming the field when there is one');

/** Extra fields the error handler spreads into some error bodies (HttpError `details`). */
const DETAILS: Partial<Record<ApiErrorType, z.ZodRawShape>> = {
  budget_exceeded: {
    month: z
      .string()
      .regex(/^\d{4}-\d{2}$/)
      .describe('the UTC month, YYYY-MM'),
    budget_usd: z.number().describe("the tenant's monthly budget"),
    spent_usd: z.number().describe('spent this month by ended jobs'),
    reserved_usd: z.number().describe('held by accepted jobs that have not ended'),
    estimate_usd: z.number().describe('the estimate of the refused job(s) that did not fit'),
  },
  conflict: { status: z.enum(JOB_STATUSES).optional().describe("the job's status, when it is why") },
};

const bodyOf = (type: ApiErrorType) =>
  z.strictObject({ error: z.strictObject({ type: z.literal(type), message, ...DETAILS[type] }) });

/** One closed body schema per error type. */
export const ERROR_BODY_SCHEMAS = Object.fromEntries(
  (Object.keys(ERROR_TYPES) as ApiErrorType[]).map((type) => [type, bodyOf(type)]),
) as Record<ApiErrorType, ReturnType<typeof bodyOf>>;

/** The one error body of every route, whatever its type: `{"error": {"type", "message", ...}}`. */
export const errorBodySchema = z.union(Object.values(ERROR_BODY_SCHEMAS));

/** The error type a status is answered with (each status has exactly one). */
export function errorTypeOfStatus(status: number): ApiErrorType | undefined {
  return (Object.keys(ERROR_TYPES) as ApiErrorType[]).find((type) => ERROR_TYPES[type].status === status);
}
