import { Redis } from 'ioredis';
import { createLlmQueue, JobStore, type LlmJobData } from '@llmq/core';
import { redisTest } from '@llmq/devkit/vitest';

/** A test with the file's Redis, the LLM queue on it and a job store: what the queue-watching parts of the worker take. */
export const queuePartsTest = redisTest.extend('parts', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = createLlmQueue({ connection: redis });
  onCleanup(async () => {
    await queue.close();
    await redis.quit();
  });
  return { redis, queue, store: new JobStore({ redis }) };
});

/** What the API would queue for a one-attempt chat job of `tenant` on openai/gpt-4o-mini. */
export const chatJobData = (tenant: string, jobId: string, deadlineAt: number): LlmJobData => ({
  tenant,
  jobId,
  type: 'chat',
  model: 'openai/gpt-4o-mini',
  tokens: 10,
  attemptsPerModel: 1,
  attemptTimeoutMs: 1_000,
  deadlineAt,
});
