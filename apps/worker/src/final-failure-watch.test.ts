import { Worker } from 'bullmq';
import { describe, expect } from 'vitest';
import { createJobId, createLogger, LLM_QUEUE_NAME, QUEUE_PREFIX, type LlmJobData } from '@llmq/core';
import { watchFinalFailures } from './final-failure-watch.js';
import { chatJobData, queuePartsTest } from './__fixtures__/queue-parts.js';

const test = queuePartsTest;

const logger = createLogger({ name: 'final-failure-watch-test', level: 'silent' });

describe('watchFinalFailures', () => {
  test('ends the record of a job BullMQ fails the moment the watch is started, before its first read', async ({
    parts,
  }) => {
    const { redis, queue, store } = parts;
    const tenant = 'watched';
    const jobId = createJobId();
    const submission = {
      type: 'chat' as const,
      request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] },
    };
    await store.create({ tenant, jobId, submission, createdAt: Date.now() });
    await store.transition({ tenant, jobId, to: 'running', from: ['queued'] });
    await queue.add('chat', chatJobData(tenant, jobId, Date.now() + 60_000), { jobId });
    // Taken by a worker that will not run it: the job is active under this token.
    // Connections given to BullMQ are the giver's to close.
    const takerConnection = redis.duplicate();
    const watchConnection = redis.duplicate();
    const taker = new Worker<LlmJobData>(LLM_QUEUE_NAME, null, {
      connection: takerConnection,
      prefix: QUEUE_PREFIX,
      autorun: false,
    });
    const job = await taker.getNextJob('token-1');
    expect(job?.id).toBe(jobId);

    const watch = await watchFinalFailures({ connection: watchConnection, queue, store, logger });
    try {
      // BullMQ fails it for good as soon as the watch exists: the watch must not miss the event.
      await job?.moveToFailed(new Error('job stalled more than allowable limit'), 'token-1', false);
      await expect
        .poll(async () => (await store.get(tenant, jobId))?.status, { timeout: 5_000, interval: 50 })
        .toBe('failed');
      const record = await store.get(tenant, jobId);
      expect(record?.error).toMatchObject({
        type: 'internal',
        message: 'llmq gave the job up: job stalled more than allowable limit',
      });
    } finally {
      await watch.close();
      await taker.close();
      takerConnection.disconnect();
      watchConnection.disconnect();
    }
  });
});
