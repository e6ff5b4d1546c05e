/** Error types an API error body can carry, besides the provider kinds a job's error uses. */
export type ApiErrorType =
  | 'invalid_request'
  | 'authentication'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unavailable'
  | 'internal'
  | 'forbidden'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'idempotency_conflict'
  | 'budget_exceeded';

/** Thrown by routes; the error middleware writes it as `{"error": {"type", "message", ...}}`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
