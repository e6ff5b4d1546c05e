import type { Request } from 'express';
import { isEnded, type JobRecord, type JobStore } from '@llmq/core';
import type { JobEvents } from '../job-events.js';
import { OpenAiError } from './openai-error.js';

/** How often the record is read again while waiting, ms: a status message lost with a subscriber reconnect costs at most this. */
const REREAD_MS = 5_000;

/**
 * Holds until the job ends and returns its record, or null when the client left first (the job
 * keeps running and can be fetched at `/v1/jobs/{id}`). No time limit: the job's own deadline ends
 * it. A record that disappears while the client waits (its retention passed) is a 404.
 */
export async function waitForJobEnd(options: {
  events: JobEvents;
  store: JobStore;
  tenant: string;
  jobId: string;
  request: Request;
}): Promise<JobRecord | null> {
  const { events, store, tenant, jobId, request } = options;
  let wake = () => {};
  let left = false;
  const onClose = () => {
    left = true;
    wake();
  };
  // Listen before reading, so an end that lands between the two is not missed.
  const off = events.on(tenant, jobId, (event) => {
    if (isEnded(event.status)) wake();
  });
  request.once('close', onClose);
  const timer = setInterval(() => wake(), REREAD_MS);
  try {
    for (;;) {
      const woken = new Promise<void>((resolve) => (wake = resolve));
      const record = await store.get(tenant, jobId);
      if (record === null) {
        throw new OpenAiError(404, 'invalid_request_error', `job "${jobId}" is no longer stored`, {
          code: 'job_not_found',
        });
      }
      if (isEnded(record.status)) return record;
      if (left) return null;
      await woken;
      if (left) return null;
    }
  } finally {
    off();
    clearInterval(timer);
    request.off('close', onClose);
  }
}
