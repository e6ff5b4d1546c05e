/**
 * Where a client stands in a job's event stream. Every event carries the position after it as
 * its SSE `id:`, so the `Last-Event-ID` an EventSource sends on reconnect says all the server
 * needs to resume: which status it last had and how much of which attempt's output.
 */
export interface JobEventPosition {
  /** The job's transition count (`JobRecord.transitions`) when its last status event was sent. */
  transitions: number;
  /** The attempt whose output the client holds; 0 before any output. */
  attempt: number;
  /** How many characters of that attempt's output the client holds. */
  offset: number;
}

/** A new client: no status yet, no output. */
export const STREAM_START: JobEventPosition = { transitions: -1, attempt: 0, offset: 0 };

/** `<transitions>.<attempt>.<offset>`, e.g. `3.2.480`. */
export function formatJobEventId(position: JobEventPosition): string {
  return `${position.transitions}.${position.attempt}.${position.offset}`;
}

// Bounded digits keep every part a safe integer.
const EVENT_ID = /^(\d{1,9})\.(\d{1,9})\.(\d{1,15})$/;

/** The position an id names, or null when the text is not an id this stream writes. */
export function parseJobEventId(text: string): JobEventPosition | null {
  const match = EVENT_ID.exec(text);
  if (match === null) return null;
  const [, transitions = '', attempt = '', offset = ''] = match;
  return { transitions: Number(transitions), attempt: Number(attempt), offset: Number(offset) };
}
