import type { ErrorRequestHandler } from 'express';
import { isRedisUnavailable, type JobError } from '@llmq/core';
import { HttpError } from '../http-error.js';

/** The error body of the OpenAI-compatible routes, as OpenAI's SDKs read it. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error of the OpenAI-compatible routes: its status and OpenAI's body fields. */
export class OpenAiError extends Error {
  override readonly name = 'OpenAiError';

  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly options: { param?: string | null; code?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }

  get body(): OpenAiErrorBody {
    return {
      error: {
        message: this.message,
        type: this.type,
        param: this.options.param ?? null,
        code: this.options.code ?? null,
      },
    };
  }
}

/** OpenAI's `type` for each llmq API error a shared layer throws (auth, tenant limit, budget, body). */
function fromHttpError(error: HttpError): OpenAiError {
  switch (error.type) {
    case 'authentication':
      return new OpenAiError(401, 'authentication_error', error.message, { code: 'invalid_api_key' });
    case 'rate_limited':
      return new OpenAiError(429, 'rate_limit_error', error.message, { code: 'rate_limit_exceeded' });
    case 'budget_exceeded':
      return new OpenAiError(402, 'insufficient_quota', error.message, { code: 'budget_exceeded' });
    case 'not_found':
      return new OpenAiError(404, 'invalid_request_error', error.message, { code: 'not_found' });
    case 'unavailable':
      return new OpenAiError(503, 'server_error', error.message, { code: 'unavailable' });
    default:
      return error.status >= 500
        ? new OpenAiError(503, 'server_error', error.message, { code: error.type })
        : new OpenAiError(error.status, 'invalid_request_error', error.message, { code: error.type });
  }
}

/** Body-parser's failures carry a 4xx `status` and a `type`. */
function fromClientError(error: unknown): OpenAiError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, type } = error as { status?: unknown; type?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  const message =
    type === 'entity.too.large'
      ? 'request body is too large'
      : type === 'entity.parse.failed'
        ? 'request body is not valid JSON'
        : 'the request body could not be read';
  return new OpenAiError(status, 'invalid_request_error', message);
}

/**
 * The status and body of a job that failed after its attempts and fallbacks: the provider's
 * rejection of the request is a 400, a deadline a 504, anything else a 502; `code` is llmq's error type.
 */
export function fromJobError(error: JobError | null): OpenAiError {
  const message = error?.message ?? 'the job failed';
  const code = error?.type ?? 'internal';
  // llmq already retried: a client SDK retrying would only run the job again.
  const headers = { 'x-should-retry': 'false' };
  if (code === 'invalid_request') return new OpenAiError(400, 'invalid_request_error', message, { code, headers });
  if (code === 'canceled') return new OpenAiError(409, 'invalid_request_error', message, { code, headers });
  return new OpenAiError(code === 'timeout' ? 504 : 502, 'server_error', message, { code, headers });
}

/** Writes every error of the OpenAI-compatible routes in OpenAI's shape, so the SDKs raise their usual classes. */
export const openAiErrorHandler: ErrorRequestHandler = (error: unknown, request, response, next) => {
  if (response.headersSent) {
    next(error);
    return;
  }
  let openAiError: OpenAiError;
  if (error instanceof OpenAiError) openAiError = error;
  else if (error instanceof HttpError) openAiError = fromHttpError(error);
  else if (isRedisUnavailable(error)) {
    request.log.warn({ err: error }, 'redis unavailable');
    openAiError = new OpenAiError(503, 'server_error', 'the job store is unreachable; retry shortly', {
      code: 'unavailable',
    });
  } else {
    const clientError = fromClientError(error);
    if (clientError === undefined) {
      request.log.error({ err: error }, 'unhandled error');
      openAiError = new OpenAiError(503, 'server_error', 'internal error; the request id is in x-request-id', {
        code: 'internal',
      });
    } else openAiError = clientError;
  }
  if (openAiError.status === 503 && !response.hasHeader('retry-after')) response.set('retry-after', '1');
  response
    .status(openAiError.status)
    .set(openAiError.options.headers ?? {})
    .json(openAiError.body);
};
