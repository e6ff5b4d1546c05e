import { once } from 'node:events';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One provider call that went through the proxy. */
export interface ProxiedCall {
  /** The last message's text: which job made the call. */
  key: string;
  startedAt: number;
  /** When the call ended, answered or dropped; undefined while open. */
  endedAt: number | undefined;
  /** The answer reached the caller in full. */
  answered: boolean;
}

/**
 * A pass-through HTTP proxy in front of the simulator for one worker process, so the test knows
 * which calls that very process had in flight at the provider when it was killed.
 */
export interface CallCountingProxy {
  url: string;
  calls: ProxiedCall[];
  /** Calls received and not ended yet. */
  open(): number;
  close(): Promise<void>;
}

function callKey(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { messages?: Array<{ content?: unknown }> };
    const content = parsed.messages?.at(-1)?.content;
    return typeof content === 'string' ? content : '?';
  } catch {
    return '?';
  }
}

export async function startCallCountingProxy(targetUrl: string): Promise<CallCountingProxy> {
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true });
  const calls: ProxiedCall[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const call: ProxiedCall = { key: callKey(body), startedAt: Date.now(), endedAt: undefined, answered: false };
      calls.push(call);
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
          agent,
        },
        (upstreamResponse) => {
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(response);
        },
      );
      upstream.on('error', () => response.destroy());
      // A killed worker's sockets close: the simulator sees its calls dropped, as a provider would.
      response.once('close', () => {
        call.endedAt = Date.now();
        call.answered = response.writableFinished;
        if (!call.answered) upstream.destroy();
      });
      upstream.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    open: () => calls.filter((call) => call.endedAt === undefined).length,
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
