import { Router, type Request } from 'express';
import type { Redis } from 'ioredis';
import {
  isEnded,
  isJobId,
  partialOutputKey,
  toJobObject,
  type JobRecord,
  type JobStore,
  type PartialOutputMessage,
} from '@llmq/core';
import { tenantOf } from '../auth.js';
import { HttpError } from '../http-error.js';
import { formatJobEventId, parseJobEventId, STREAM_START, type JobEventPosition } from '../job-event-id.js';
import type { JobEvents } from '../job-events.js';

export interface JobEventsRoutesOptions {
  store: JobStore;
  events: JobEvents;
  redis: Redis;
  /** Interval of `: keep-alive` comments, ms. Default 15 s, under common proxy idle limits. */
  keepAliveMs?: number;
}

const notFound = (id: string) => new HttpError(404, 'not_found', `no job with id "${id}"`);

/** The position a reconnecting EventSource names in `Last-Event-ID`; STREAM_START without one. */
function resumePosition(request: Request): JobEventPosition {
  const header = request.get('last-event-id');
  // An EventSource that has seen no id sends none; an empty value means the same.
  if (header === undefined || header === '') return STREAM_START;
  const position = parseJobEventId(header);
  if (position === null) {
    throw new HttpError(
      400,
      'invalid_request',
      'Last-Event-ID: must be an id this stream sent, <transitions>.<attempt>.<offset> such as "3.1.120"',
    );
  }
  return position;
}

/**
 * `GET /v1/jobs/{id}/events`: Server-Sent Events. `status` events carry the job object (the last
 * one, when the job ends, with its result), `delta` events the text a chat job streams
 * (`{attempt, offset, text}`, `offset` being where `text` starts in that attempt's output).
 * Every event's `id:` is the stream position after it (see job-event-id.ts): `Last-Event-ID`
 * resumes after it. The stream closes after the status that ends the job; a reconnect once the
 * client has that status answers 204, which stops an EventSource for good.
 */
export function jobEventsRoutes(options: JobEventsRoutesOptions): Router {
  const { store, events, redis } = options;
  const router = Router();

  /** The record, and the output so far of the attempt it is on. */
  const readJob = async (tenant: string, id: string): Promise<{ record: JobRecord | null; partial: string }> => {
    const record = await store.get(tenant, id);
    if (record === null || record.status !== 'running') return { record, partial: '' };
    return { record, partial: (await redis.get(partialOutputKey(tenant, id, record.attempts))) ?? '' };
  };

  router.get('/v1/jobs/:id/events', async (request, response) => {
    const tenant = tenantOf(request);
    const { id } = request.params;
    const resumeFrom = resumePosition(request);
    if (!isJobId(id)) throw notFound(id);
    const first = await store.get(tenant, id);
    if (first === null) throw notFound(id);
    if (resumeFrom.transitions > first.transitions) {
      throw new HttpError(
        400,
        'invalid_request',
        `Last-Event-ID: names transition ${resumeFrom.transitions}, but job "${id}" has made ${first.transitions}`,
      );
    }
    if (isEnded(first.status) && resumeFrom.transitions === first.transitions) {
      // The client has the final status: nothing will follow, and 204 tells an EventSource to stop.
      response.status(204).end();
      return;
    }

    response.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // Headers go first: an event may arrive as soon as the listeners below are in place.
    response.flushHeaders();

    let closed = false;
    const cleanups: Array<() => void> = [];
    const close = () => {
      if (closed) return;
      closed = true;
      for (const cleanup of cleanups) cleanup();
      if (!response.writableEnded) response.end();
    };
    /** Runs `cleanup` when the stream closes, or now if it already has. */
    const onClose = (cleanup: () => void) => (closed ? cleanup() : cleanups.push(cleanup));
    // The client left, or the server ended the response (shutting down).
    response.once('close', close);
    if (response.socket === null || response.socket.destroyed) close();
    const write = (chunk: string) => {
      if (!closed && !response.writableEnded) response.write(chunk);
    };
    const keepAlive = setInterval(() => write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000);
    onClose(() => clearInterval(keepAlive));

    const position = { ...resumeFrom };
    /** The status last sent on this connection. */
    let sentStatus: string | undefined;
    const send = (event: string, data: unknown) =>
      write(`id: ${formatJobEventId(position)}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

    /** Sends the part of `message` the client does not hold yet. */
    const forward = (message: PartialOutputMessage) => {
      if (message.attempt < position.attempt) return;
      if (message.attempt > position.attempt) {
        position.attempt = message.attempt;
        position.offset = 0;
      }
      const end = message.offset + message.text.length;
      if (end <= position.offset) return;
      const offset = Math.max(message.offset, position.offset);
      const text = message.text.slice(offset - message.offset);
      position.offset = end;
      send('delta', { attempt: message.attempt, offset, text });
    };

    /**
     * Sends what changed: the job's status when it made a transition the client has not seen,
     * then the current attempt's output the client lacks. Ends the stream with the job.
     */
    const apply = (record: JobRecord | null, partial: string) => {
      if (record === null) return close();
      // A status the client has (by its transition count) is never sent twice; the status
      // check is for records written before transitions were counted.
      if (record.transitions > position.transitions || (sentStatus !== undefined && sentStatus !== record.status)) {
        position.transitions = Math.max(position.transitions, record.transitions);
        sentStatus = record.status;
        send('status', toJobObject(record));
      }
      if (isEnded(record.status)) return close();
      if (record.status === 'running' && partial !== '') {
        forward({ attempt: record.attempts, offset: 0, text: partial });
      }
    };
    const refresh = async () => {
      const { record, partial } = await readJob(tenant, id);
      apply(record, partial);
    };

    // One step at a time, in arrival order: a status change and a delta that race the first read
    // are applied after it, against the position it left, so nothing is sent twice.
    let steps = Promise.resolve();
    const step = (work: () => void | Promise<void>) => {
      steps = steps
        .then(async () => {
          if (!closed) await work();
        })
        .catch((error: unknown) => {
          // A Redis that went away mid-stream: the client reconnects and resumes from its last id.
          request.log.warn({ err: error, jobId: id }, 'event stream ended early');
          close();
        });
    };

    // The status as first read goes out at once (an ended job's closes the stream). Then listen,
    // then read again: what changed in between is sent from that read, and only that.
    apply(first, '');
    if (closed) return;
    onClose(events.on(tenant, id, () => step(refresh)));
    try {
      onClose(await events.onPartial(tenant, id, (message) => step(() => forward(message))));
    } catch (error) {
      // Headers are out: no error body can follow. The client reconnects and resumes.
      request.log.warn({ err: error, jobId: id }, 'event stream could not subscribe');
      return close();
    }
    step(refresh);
  });

  return router;
}
