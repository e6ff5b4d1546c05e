import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { describe, expect } from 'vitest';
import {
  createJobId,
  createLogger,
  jobOutboxKey,
  LLM_QUEUE_NAME,
  QUEUE_PREFIX,
  type JobSubmission,
  type LlmJobData,
} from '@llmq/core';
import { startReconciler } from './reconciler.js';
import { chatJobData, queuePartsTest } from './__fixtures__/queue-parts.js';

const test = queuePartsTest;

const submission: JobSubmission = {
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
};

describe('reconciler', () => {
  test('ends records nothing else will end, and leaves alone those something will', async ({ parts }) => {
    const { redis, queue, store } = parts;
    const tenant = 'reconcile';
    const add = async (deadlineAt: number) => {
      const jobId = createJobId();
      await store.create({ tenant, jobId, submission, createdAt: Date.now() });
      await queue.add('chat', chatJobData(tenant, jobId, deadlineAt), { jobId });
      return jobId;
    };
    // A processor that is not llmq's completes a job in BullMQ; its record stays queued.
    const finished = await add(Date.now() + 600_000);
    const strayConnection = redis.duplicate();
    const stray = new Worker<LlmJobData>(LLM_QUEUE_NAME, async () => 'done', {
      connection: strayConnection,
      prefix: QUEUE_PREFIX,
    });
    await expect.poll(async () => (await queue.getJob(finished))?.finishedOn, { timeout: 5_000 }).toBeGreaterThan(0);
    await stray.close();
    // A connection given to BullMQ is the giver's to close.
    strayConnection.disconnect();
    const healthy = await add(Date.now() + 600_000);
    const lost = await add(Date.now() + 600_000);
    await queue.remove(lost);
    const late = await add(Date.now() - 1_000);

    const reconciler = startReconciler({
      redis,
      queue,
      store,
      logger: createLogger({ name: 'test', level: 'silent' }),
      intervalMs: 60_000,
      graceMs: 0,
    });
    try {
      await sleep(5); // ids of this millisecond are not "created before now" yet
      expect(await reconciler.pass()).toBe(3);
      const status = async (jobId: string) => (await store.get(tenant, jobId))?.status;
      expect(await status(healthy)).toBe('queued');
      expect((await store.get(tenant, lost))?.error).toEqual({
        type: 'internal',
        message: 'llmq lost the job: it has no queue entry',
      });
      expect((await store.get(tenant, late))?.error?.type).toBe('timeout');
      expect(await queue.getJob(late)).toBeUndefined();
      expect((await store.get(tenant, finished))?.error?.message).toMatch(/queue entry completed without ending it/);
      // Each end is in the tenant's outbox, for the dispatcher to queue its webhook.
      const outbox = await redis.xrange(jobOutboxKey(tenant), '-', '+');
      expect(outbox.map(([, fields]) => fields[1]).sort()).toEqual([lost, late, finished].sort());
      // One pass at a time across the deployment: the next one within the interval does nothing.
      expect(await reconciler.pass()).toBe(0);
    } finally {
      reconciler.stop();
    }
  });
});
