import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';

export interface ReceivedEvent {
  event: string;
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
