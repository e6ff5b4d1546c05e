import { Router } from 'express';
import type { Redis } from 'ioredis';
import { isEnded, isJobId, partialOutputKey, toJobObject, type JobStore, type PartialOutputMessage } from '@llmq/core';
import { tenantOf } from '../auth.js';
import { HttpError } from '../http-error.js';
import type { JobEvents } from '../job-events.js';

export interface JobEventsRoutesOptions {
  store: JobStore;
  events: JobEvents;
  redis: Redis;
  /** Interval of `: keep-alive` comments, ms. Default 15 s, under common proxy idle limits. */
  keepAliveMs?: number;
}

/**
 * `GET /v1/jobs/{id}/events`: Server-Sent Events. `status` events carry the job object (the last
 * one, when the job ends, with its result), `delta` events the text a chat job streams
 * (`{attempt, offset, text}`); a new attempt starts again from offset 0. The stream closes when
 * the job ends.
 */
export function jobEventsRoutes(options: JobEventsRoutesOptions): Router {
  const { store, events, redis } = options;
  const router = Router();

  router.get('/v1/jobs/:id/events', async (request, response) => {
    const tenant = tenantOf(request);
    const { id } = request.params;
    if (!isJobId(id) || (await store.get(tenant, id)) === null)
      throw new HttpError(404, 'not_found', `no job with id "${id}"`);

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
      response.end();
    };
    request.once('close', close);
    const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000);
    cleanups.push(() => clearInterval(keepAlive));
    const send = (event: string, data: unknown) => {
      if (!closed) response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };

    // Where the client is in the current attempt's text, so replays and live pieces never overlap.
    let attempt = 0;
    let sent = 0;
    const forward = (message: PartialOutputMessage) => {
      if (message.attempt > attempt) {
        attempt = message.attempt;
        sent = 0;
      }
      if (message.attempt < attempt || message.offset + message.text.length <= sent) return;
      const text = message.text.slice(Math.max(0, sent - message.offset));
      send('delta', { attempt, offset: sent, text });
      sent += text.length;
    };
    const finish = async () => {
      const record = await store.get(tenant, id);
      if (record !== null) send('status', toJobObject(record));
      close();
    };

    // Listen first, then read: nothing that happens in between is lost.
    cleanups.push(
      events.on(tenant, id, (event) => {
        if (isEnded(event.status)) void finish();
        else send('status', { id, object: 'job.status', status: event.status });
      }),
    );
    cleanups.push(await events.onPartial(tenant, id, forward));

    const [record, partial] = await Promise.all([store.get(tenant, id), redis.get(partialOutputKey(tenant, id))]);
    if (record === null) return close();
    send('status', toJobObject(record));
    if (isEnded(record.status)) return close();
    if (record.status === 'running' && partial) forward({ attempt: record.attempts, offset: 0, text: partial });
  });

  return router;
}
