import type { Request, RequestHandler } from 'express';
import promBundle from 'express-prom-bundle';
import type { Registry } from 'prom-client';

/** The `route` of a request no route answered: a 404, or a refusal in front of the routes (401, 413, 429). */
export const NO_ROUTE = 'none';

const TEMPLATE = Symbol('llmq route template');
type WithTemplate = Request & { [TEMPLATE]?: string };

/**
 * Keeps the template of the route that answers a request (`/v1/jobs/:id`), with the path its
 * router is mounted at. Express sets `request.route` when a route matches, while `baseUrl` still
 * names the router's mount; by the time the response ends, an error passed on has already reset
 * `baseUrl`, so the template is written down at the moment the route is set.
 */
function captureRouteTemplate(): RequestHandler {
  return (request, _response, next) => {
    let route: unknown;
    Object.defineProperty(request, 'route', {
      configurable: true,
      enumerable: true,
      get: () => route,
      set(value: { path?: unknown } | undefined) {
        route = value;
        if (typeof value?.path === 'string') (request as WithTemplate)[TEMPLATE] = `${request.baseUrl}${value.path}`;
      },
    });
    next();
  };
}

/**
 * Rate, errors and duration of every HTTP request, by route template (never the raw path: ids
 * would make a series per job), method and status code: `llmq_http_request_duration_seconds`,
 * whose `_count` counts requests. 499 is a client that went away before the answer.
 */
export function httpMetrics(registry: Registry): RequestHandler[] {
  const measure = promBundle({
    autoregister: false,
    includeUp: false,
    includeMethod: true,
    includeStatusCode: true,
    includePath: false,
    customLabels: { route: NO_ROUTE },
    transformLabels: (labels, request) => {
      labels.route = (request as WithTemplate)[TEMPLATE] ?? NO_ROUTE;
    },
    httpDurationMetricName: 'llmq_http_request_duration_seconds',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    promRegistry: registry,
  });
  return [captureRouteTemplate(), measure];
}
