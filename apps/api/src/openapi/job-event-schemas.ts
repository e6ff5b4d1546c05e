import { z } from 'zod';
import { jobObjectSchema } from './job-object-schemas.js';

/**
 * The events of `GET /v1/jobs/{id}/events`, one schema per Server-Sent Event: `event` is the
 * SSE event name, `id` its SSE id and `data` its parsed JSON data. OpenAPI 3.1 cannot
 * describe an event stream's items (3.2's `itemSchema` can), so the stream's schema is this union,
 * as SSE-aware generators read it; on the wire the body is `text/event-stream` text.
 */

export const jobDeltaSchema = z.strictObject({
  attempt: z.number().int().describe('the attempt the text belongs to; a new attempt starts again at offset 0'),
  offset: z.number().int().min(0).describe("where `text` starts in the attempt's output, in UTF-16 code units"),
  text: z.string(),
});

/** `<transitions>.<attempt>.<offset>` (job-event-id.ts): where the client stands after the event. */
export const JOB_EVENT_ID_PATTERN = '^\\d{1,9}\\.\\d{1,9}\\.\\d{1,15}$';

const eventId = z
  .string()
  .regex(new RegExp(JOB_EVENT_ID_PATTERN))
  .describe(
    'the SSE id: the stream position after this event; an EventSource sends it back as Last-Event-ID to resume',
  );

export const jobStatusEventSchema = z
  .strictObject({
    event: z.literal('status'),
    id: eventId,
    data: jobObjectSchema,
  })
  .describe(
    'the job object at connect and at each status change the client has not seen; the one with an ended status (with its result) is the last event of the stream',
  );

export const jobDeltaEventSchema = z
  .strictObject({ event: z.literal('delta'), id: eventId, data: jobDeltaSchema })
  .describe('a piece of the output while a chat job streams from its provider');

/** One event of the stream. */
export const jobEventSchema = z.discriminatedUnion('event', [jobStatusEventSchema, jobDeltaEventSchema]);
