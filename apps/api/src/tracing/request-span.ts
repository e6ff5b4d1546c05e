import type { RequestHandler } from 'express';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import { llmqTracer } from '@llmq/core';

/**
 * A SERVER span per request, named `{method} {route}` as the HTTP conventions name it, and active
 * for everything the request does (a submission's enqueue spans hang under it). A client's own
 * `traceparent` header makes it a child of the client's span. It names the route, never the URL:
 * queries and bodies stay out. With no SDK started the tracer is a no-op.
 */
export function traceRequests(): RequestHandler {
  return (request, response, next) => {
    const parent = propagation.extract(context.active(), request.headers);
    const span = llmqTracer().startSpan(
      request.method,
      {
        kind: SpanKind.SERVER,
        attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_URL_SCHEME]: request.protocol },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    // The body arrives in stream events, which run outside this call: bind them to the span.
    context.bind(active, request);
    context.bind(active, response);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route: unknown = request.route?.path;
      if (typeof route === 'string') {
        const fullRoute = `${request.baseUrl}${route}`;
        span.updateName(`${request.method} ${fullRoute}`);
        span.setAttribute(ATTR_HTTP_ROUTE, fullRoute);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.statusCode);
      if (response.statusCode >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(response.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    };
    response.once('finish', end);
    response.once('close', end);
    context.with(active, next);
  };
}
