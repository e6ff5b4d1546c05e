import type { ErrorRequestHandler, RequestHandler } from 'express';
import { CorruptJobRecordError, isRedisUnavailable } from '@llmq/core';
import { HttpError } from './http-error.js';

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  expose?: boolean;
  message?: string;
  code?: string;
}

/** Turns body-parser failures (they carry `type` and `status`) into our error type. */
function fromBodyParser(error: BodyParserError): HttpError | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new HttpError(
        413,
        'payload_too_large',
        `request body is larger than the limit of ${error.limit ?? '?'} bytes`,
      );
    case 'entity.parse.failed':
      return new HttpError(400, 'invalid_request', 'request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_media_type', 'request body must be UTF-8 JSON');
    case 'request.aborted':
      return new HttpError(400, 'invalid_request', 'request body was cut off');
    default:
      return fromClientStatus(error);
  }
}

/**
 * Other 4xx errors of Express's own layers: the router's undecodable path parameters (`%zz`) and
 * body-parser's failed inflation (`Content-Encoding: gzip` on a body that is not). Their status
 * is right; only the body needs our shape.
 */
function fromClientStatus(error: BodyParserError): HttpError | undefined {
  const status = error.status;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (error instanceof URIError) return new HttpError(400, 'invalid_request', 'the path is not valid percent-encoding');
  if (typeof error.code === 'string' && error.code.startsWith('Z_')) {
    return new HttpError(400, 'invalid_request', 'request body is not encoded as its Content-Encoding says');
  }
  const message = error.expose === true && error.message ? error.message : 'the request could not be read';
  if (status === 413) return new HttpError(413, 'payload_too_large', message);
  if (status === 415) return new HttpError(415, 'unsupported_media_type', message);
  return new HttpError(status, 'invalid_request', message);
}

/** The one place every error body is written; anything unexpected is a 500 with no detail. */
export const errorHandler: ErrorRequestHandler = (error: unknown, request, response, next) => {
  if (response.headersSent) {
    next(error);
    return;
  }
  const httpError =
    error instanceof HttpError
      ? error
      : typeof error === 'object' && error !== null
        ? fromBodyParser(error as BodyParserError)
        : undefined;
  if (httpError === undefined && isRedisUnavailable(error)) {
    request.log.warn({ err: error }, 'redis unavailable');
    response
      .status(503)
      .set('retry-after', '1')
      .json({
        error: { type: 'unavailable', message: 'the job store is unreachable or refusing writes; retry shortly' },
      });
    return;
  }
  if (error instanceof CorruptJobRecordError) {
    // Damaged data, not a bug of the request: the job cannot be served until an operator sees to
    // its record. The log names the job and the field; the client gets the one 503 body.
    request.log.error({ err: error, jobId: error.jobId }, 'a job record cannot be read');
    response
      .status(503)
      .set('retry-after', '60')
      .json({ error: { type: 'unavailable', message: `job ${error.jobId} cannot be read from the job store` } });
    return;
  }
  if (httpError === undefined) {
    request.log.error({ err: error }, 'unhandled error');
    response
      .status(500)
      .json({ error: { type: 'internal', message: 'internal error; the request id is in x-request-id' } });
    return;
  }
  if (httpError.status >= 500) request.log.warn({ err: httpError }, httpError.message);
  // Every 503 says when to come back, whichever route threw it.
  if (httpError.status === 503 && !response.hasHeader('retry-after')) response.set('retry-after', '1');
  response
    .status(httpError.status)
    .json({ error: { type: httpError.type, message: httpError.message, ...httpError.details } });
};

export const notFoundHandler: RequestHandler = (request) => {
  throw new HttpError(404, 'not_found', `no route for ${request.method} ${request.path}`);
};
