import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface HttpDrainResult {
  /** True when every request finished within the grace period; false when the rest were cut. */
  drained: boolean;
  /** Event streams that were open and got closed. */
  closedStreams: number;
}

const isEventStream = (response: ServerResponse) =>
  String(response.getHeader('content-type') ?? '').startsWith('text/event-stream');

/**
 * Graceful HTTP shutdown: stop accepting connections, close idle keep-alive ones, end the Server-
 * Sent Event streams (they never end on their own; clients reconnect to another replica), let
 * every other request in flight finish (a `?wait` lasts at most 60 s), and cut what is left when
 * the grace period runs out.
 */
export class HttpDrain {
  readonly #server: Server;
  readonly #inFlight = new Set<ServerResponse>();
  #draining = false;

  constructor(server: Server) {
    this.#server = server;
    server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
      this.#inFlight.add(response);
      response.once('close', () => this.#inFlight.delete(response));
      // A request that arrives on a kept-alive connection while draining is served, then its
      // connection closes.
      if (this.#draining) response.setHeader('connection', 'close');
    });
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Requests being answered right now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  async close(options: { graceMs: number }): Promise<HttpDrainResult> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    let closedStreams = 0;
    for (const response of this.#inFlight) {
      if (isEventStream(response)) {
        closedStreams += 1;
        // end() writes the last chunk; ending the socket after it lets the route clean up at once.
        response.end(() => response.socket?.end());
      } else if (!response.headersSent) {
        response.setHeader('connection', 'close');
      }
    }
    // Connections become idle as their requests finish; close them as they do.
    this.#server.closeIdleConnections();
    const sweep = setInterval(() => this.#server.closeIdleConnections(), 100);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), options.graceMs);
    });
    const drained = await Promise.race([closed.then(() => true as const), graceOver]);
    clearInterval(sweep);
    clearTimeout(timer);
    if (!drained) {
      this.#server.closeAllConnections();
      await closed;
    }
    return { drained, closedStreams };
  }
}
