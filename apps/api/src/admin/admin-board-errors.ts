import type { ApiErrorType } from '../http-error.js';

/** A result of a bull-board API handler: a status and a body. */
interface BoardResult {
  status?: number;
  body: unknown;
}

const TYPE_BY_STATUS: Readonly<Record<number, ApiErrorType>> = {
  400: 'invalid_request',
  401: 'authentication',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
};

/** `ERRORS.QUEUE_READ_ONLY` -> `queue read only`. */
const sentenceOf = (key: string) =>
  key
    .replace(/^ERRORS\./, '')
    .replaceAll('_', ' ')
    .toLowerCase();

/**
 * bull-board answers errors as `{error: {key, options}, message?}` (a translation key for its UI).
 * This rewrites them into llmq's `{error: {type, message}}`, keeping `key` and `options` inside
 * `error`, where bull-board's UI reads them, so its messages still show.
 */
export function withLlmqErrorBody<T extends BoardResult>(result: T): T {
  const status = result.status ?? 200;
  if (status < 400 || typeof result.body !== 'object' || result.body === null) return result;
  const body = result.body as { error?: unknown; message?: unknown };
  const reference = typeof body.error === 'object' && body.error !== null ? (body.error as { key?: unknown }) : {};
  const key = typeof reference.key === 'string' ? reference.key : undefined;
  const message =
    typeof body.message === 'string' && body.message !== ''
      ? body.message
      : typeof body.error === 'string'
        ? body.error
        : key !== undefined
          ? sentenceOf(key)
          : 'the dashboard request failed';
  return {
    ...result,
    body: { error: { ...reference, type: TYPE_BY_STATUS[status] ?? 'internal', message } },
  };
}
