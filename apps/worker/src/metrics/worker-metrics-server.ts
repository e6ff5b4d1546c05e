import { once } from 'node:events';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface WorkerMetricsServerOptions {
  registry: Registry;
  port: number;
  /** Default: 127.0.0.1 (see WORKER_METRICS_HOST in config.ts). */
  host?: string;
  /** Bearer token `/metrics` requires. Default: none. */
  token?: string;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

function send(
  response: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  response
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
    .end(JSON.stringify({ error: { type, message } }));
}

/** `GET /metrics` of one worker process, on a port of its own (plain node:http: one route). */
export async function startWorkerMetricsServer(
  options: WorkerMetricsServerOptions,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const expected = options.token === undefined ? undefined : digest(`Bearer ${options.token}`);
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      send(response, 404, 'not_found', `no route for ${request.method ?? 'GET'} ${path ?? '/'}`);
      return;
    }
    if (expected && !timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      send(response, 401, 'authentication', 'send "Authorization: Bearer <LLMQ_METRICS_TOKEN>"', {
        'www-authenticate': 'Bearer realm="llmq-metrics"',
      });
      return;
    }
    options.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
      () => send(response, 500, 'internal', 'metrics could not be collected'),
    );
  });
  server.listen(options.port, options.host ?? '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch (error) {
    const reason = (error as { code?: string }).code === 'EADDRINUSE' ? 'is taken' : 'cannot be used';
    throw new Error(
      `WORKER_METRICS_PORT ${options.port} ${reason}: give each worker on a machine its own port, 0 for any free one, or "off"`,
      { cause: error },
    );
  }
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
