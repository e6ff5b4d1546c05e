/** What went wrong at a provider, in terms the job system decides on. */
export const PROVIDER_ERROR_KINDS = [
  'authentication',
  'permission',
  'invalid_request',
  'rate_limit',
  'quota_exceeded',
  'overloaded',
  'timeout',
  'connection',
  'provider_error',
  'canceled',
] as const;
export type ProviderErrorKind = (typeof PROVIDER_ERROR_KINDS)[number];

const RETRYABLE: ReadonlySet<ProviderErrorKind> = new Set([
  'rate_limit',
  'overloaded',
  'timeout',
  'connection',
  'provider_error',
]);

export function isRetryableKind(kind: ProviderErrorKind): boolean {
  return RETRYABLE.has(kind);
}

export interface ProviderErrorOptions {
  provider: string;
  kind: ProviderErrorKind;
  message: string;
  /** HTTP status the provider answered, when it answered. */
  status?: number;
  /** Wait the provider asked for before the next call, in milliseconds. */
  retryAfterMs?: number;
  /** Overrides the kind's default retryability. */
  retryable?: boolean;
  cause?: unknown;
}

/** Every adapter turns SDK and network failures into this one error at its boundary. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly provider: string;
  readonly kind: ProviderErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly retryable: boolean;

  constructor(options: ProviderErrorOptions) {
    super(options.message, { cause: options.cause });
    this.provider = options.provider;
    this.kind = options.kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.retryable = options.retryable ?? isRetryableKind(options.kind);
  }
}

/** Maps an HTTP status to the kind it means when the body says nothing more specific. */
export function kindFromStatus(status: number): ProviderErrorKind {
  if (status === 401) return 'authentication';
  if (status === 403) return 'permission';
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limit';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'provider_error';
  return 'invalid_request';
}
