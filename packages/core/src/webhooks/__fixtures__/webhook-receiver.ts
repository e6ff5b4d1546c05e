import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface ReceivedWebhook {
  /** Path and query of the request. */
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** TLS server name the client asked for (https receivers only). */
  servername: string | null;
  at: number;
}

export type ReceiverHandler = (request: ReceivedWebhook, response: ServerResponse) => void;

/** A local webhook receiver that records every request and answers with `handler` (default 204). */
export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  handle(handler: ReceiverHandler): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: {
  host: string;
  /** Serve https with this key and certificate. Default: plain http. */
  tls?: { key: string; cert: string };
}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let handler: ReceiverHandler = (_request, response) => response.writeHead(204).end();
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const servername = (request.socket as Partial<TLSSocket>).servername;
      const entry: ReceivedWebhook = {
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        servername: typeof servername === 'string' ? servername : null,
        at: Date.now(),
      };
      received.push(entry);
      handler(entry, response);
    });
  };
  const server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  server.listen(0, options.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    received,
    handle: (next) => (handler = next),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
