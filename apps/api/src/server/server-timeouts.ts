import type { ServerOptions } from 'node:http';

export interface ServerTimeouts {
  /**
   * Longest wait for a request's headers, ms. Default 66 s: above `keepAliveTimeoutMs`, as Node
   * needs, so an idle kept-alive connection is closed by its own timer and not mid-request.
   */
  headersTimeoutMs?: number;
  /**
   * Longest wait for a whole request (headers and body) to arrive, ms. Default 120 s: a 4 MiB
   * body over a slow link. Only the request counts: SSE streams and `?wait=60` answers take as
   * long as they need once the request has arrived.
   */
  requestTimeoutMs?: number;
  /**
   * How long an idle kept-alive connection stays open, ms. Default 65 s: longer than the 60 s idle
   * timeout of common load balancers, so the balancer closes first and never sends a request into
   * a connection this server is closing.
   */
  keepAliveTimeoutMs?: number;
}

/** `http.createServer` options for the API; `connectionsCheckingInterval` makes the limits bite within a second. */
export function serverTimeoutOptions(timeouts: ServerTimeouts = {}): ServerOptions {
  const keepAliveTimeout = timeouts.keepAliveTimeoutMs ?? 65_000;
  const headersTimeout = timeouts.headersTimeoutMs ?? keepAliveTimeout + 1_000;
  const requestTimeout = timeouts.requestTimeoutMs ?? 120_000;
  if (requestTimeout > 0 && headersTimeout > requestTimeout) {
    throw new Error(
      `the headers timeout (${headersTimeout} ms) must not exceed the request timeout (${requestTimeout} ms)`,
    );
  }
  return {
    keepAliveTimeout,
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval: Math.min(1_000, headersTimeout),
  };
}
