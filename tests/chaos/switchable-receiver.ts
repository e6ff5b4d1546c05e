import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  webhookId: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
}

/**
 * A webhook receiver on a fixed address that can be down (nothing listens: connection refused),
 * failing (answers 503) or up (answers 200), and records every request that reached it.
 */
export interface SwitchableReceiver {
  url: string;
  received: ReceivedDelivery[];
  down(): Promise<void>;
  failing(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startSwitchableReceiver(host: string): Promise<SwitchableReceiver> {
  const received: ReceivedDelivery[] = [];
  let answer = 200;
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    if (server !== undefined) return;
    const next = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const webhookId = request.headers['webhook-id'];
        received.push({
          webhookId: typeof webhookId === 'string' ? webhookId : '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          status: answer,
        });
        response.writeHead(answer).end();
      });
    });
    next.listen(port, host);
    await once(next, 'listening');
    port = (next.address() as AddressInfo).port;
    server = next;
  };
  const stop = async () => {
    const running = server;
    server = undefined;
    if (running === undefined) return;
    running.closeAllConnections();
    await new Promise<void>((resolve) => running.close(() => resolve()));
  };
  // Take a port now so the URL stays the same through every state.
  await listen();
  return {
    url: `http://${host}:${port}`,
    received,
    down: stop,
    failing: async () => {
      answer = 503;
      await listen();
    },
    up: async () => {
      answer = 200;
      await listen();
    },
    close: stop,
  };
}
