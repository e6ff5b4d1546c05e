import type { ServerResponse } from 'node:http';

/**
 * Writes Server-Sent Events payloads as `data: <payload>\n\n` frames. With no delay the whole
 * stream goes out in one write (cheapest under load); with a delay, one timer at a time per
 * response, cleared if the client goes away so nothing is written to a dead socket.
 */
export function writeEventStream(
  response: ServerResponse,
  headers: Readonly<Record<string, string>>,
  payloads: readonly string[],
  delayMs: number,
): void {
  writeEventFrames(
    response,
    headers,
    payloads.map((payload) => `data: ${payload}\n\n`),
    delayMs,
  );
}

/** Writes ready-made SSE frames (`event:`/`data:` lines ending in a blank line), paced by `delayMs`. */
export function writeEventFrames(
  response: ServerResponse,
  headers: Readonly<Record<string, string>>,
  frames: readonly string[],
  delayMs: number,
): void {
  response.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  if (delayMs <= 0) {
    response.end(frames.join(''));
    return;
  }
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const writeNext = (): void => {
    const frame = frames[next];
    next += 1;
    if (frame === undefined || next >= frames.length) {
      response.end(frame);
      return;
    }
    response.write(frame);
    timer = setTimeout(writeNext, delayMs);
  };
  response.once('close', () => clearTimeout(timer));
  writeNext();
}
