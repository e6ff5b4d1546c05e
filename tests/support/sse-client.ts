import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { EventSource } from 'eventsource';
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';

export interface ReceivedEvent {
  event: string;
  /** The event's `id:` ('' when it has none). */
  id: string;
  data: unknown;
  /** ms since the client connected. */
  at: number;
}

/** Reads an SSE response to its end (or until `until` says stop) and returns the events. */
export async function readEvents(
  url: string,
  headers: Record<string, string>,
  until?: (event: ReceivedEvent) => boolean,
): Promise<{ status: number; contentType: string | null; events: ReceivedEvent[]; comments: number }> {
  const started = Date.now();
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: ReceivedEvent[] = [];
  let comments = 0;
  if (response.body === null || !response.ok) {
    return { status: response.status, contentType: response.headers.get('content-type'), events, comments };
  }
  const stream = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream({ onComment: () => (comments += 1) }));
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const message: EventSourceMessage = value;
      const event = {
        event: message.event ?? 'message',
        id: message.id ?? '',
        data: JSON.parse(message.data) as unknown,
        at: Date.now() - started,
      };
      events.push(event);
      if (until?.(event)) {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return { status: response.status, contentType: response.headers.get('content-type'), events, comments };
}

/** One request an EventSource made, and how the server answered it. */
export interface EventSourceRequest {
  lastEventId: string | null;
  status: number;
}

export interface EventSourceRun {
  source: EventSource;
  /** Every event received, over every connection, in order. */
  events: ReceivedEvent[];
  /** Every request the client made (its first connection and each reconnect). */
  requests: EventSourceRequest[];
  /** Resolves once the client has stopped for good (readyState CLOSED). */
  closed: Promise<void>;
}

/**
 * An `eventsource` client (the npm package, as applications use it) on `url`, sending `headers`
 * with every request; records what it receives and what it asks for. `eventNames` are the event
 * types to listen to.
 */
export function openEventSource(
  url: string,
  headers: Record<string, string>,
  eventNames: readonly string[] = ['status', 'delta'],
): EventSourceRun {
  const started = Date.now();
  const events: ReceivedEvent[] = [];
  const requests: EventSourceRequest[] = [];
  const source = new EventSource(url, {
    fetch: async (input, init) => {
      const sent = init.headers as Record<string, string> | undefined;
      const request: EventSourceRequest = { lastEventId: sent?.['Last-Event-ID'] ?? null, status: 0 };
      requests.push(request);
      const response = await fetch(input, { ...init, headers: { ...sent, ...headers } });
      request.status = response.status;
      return response;
    },
  });
  for (const name of eventNames) {
    source.addEventListener(name, (message) => {
      events.push({ event: name, id: message.lastEventId, data: JSON.parse(message.data), at: Date.now() - started });
    });
  }
  const closed = new Promise<void>((resolve) => {
    source.addEventListener('error', () => {
      if (source.readyState === source.CLOSED) resolve();
    });
  });
  return { source, events, requests, closed };
}

/** A TCP relay in front of a server whose connections a test can cut, as a network failure would. */
export interface TcpRelay {
  url: string;
  /** Destroys every connection open through the relay now. */
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(target: string): Promise<TcpRelay> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
