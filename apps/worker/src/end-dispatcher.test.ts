import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import {
  createJobId,
  createLogger,
  JobLifecycle,
  jobOutboxKey,
  JobStore,
  type JobEndNotice,
  type JobSubmission,
} from '@llmq/core';
import { redisTest } from '@llmq/devkit/vitest';
import { startEndDispatcher } from './end-dispatcher.js';

const submission: JobSubmission = {
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
};
const logger = createLogger({ name: 'test', level: 'silent' });

const test = redisTest.extend('outbox', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(() => void redis.quit().catch(() => undefined));
  const store = new JobStore({ redis });
  const tenant = `t${randomUUID().slice(0, 8)}`;
  /** Creates and ends `count` jobs; their ends are in the outbox. */
  const endJobs = async (count: number) => {
    const lifecycle = new JobLifecycle(store);
    const ids: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const jobId = createJobId();
      await store.create({ tenant, jobId, submission, createdAt: Date.now() });
      await lifecycle.fail({ tenant, jobId, error: { type: 'internal', message: 'x' }, at: Date.now() });
      ids.push(jobId);
    }
    return ids;
  };
  return { redisUrl, redis, store, tenant, endJobs };
});

describe('end dispatcher', () => {
  test('handles every end the transitions announced, once, across two workers, and empties the outbox', async ({
    outbox: { redisUrl, redis, store, tenant, endJobs },
  }) => {
    const handled: string[] = [];
    const start = (consumer: string) =>
      startEndDispatcher({
        redis,
        subscriber: new Redis(redisUrl),
        store,
        logger,
        consumer,
        sweepMs: 100,
        handle: async (notice) => void handled.push(`${notice.jobId}:${notice.status}`),
      });
    const ids = await endJobs(20);
    const [first, second] = await Promise.all([start('a'), start('b')]);
    // Ends after the dispatchers started arrive through the events channel.
    ids.push(...(await endJobs(20)));
    try {
      await expect.poll(() => handled.length, { timeout: 5_000 }).toBe(40);
      expect(handled.sort()).toEqual(ids.map((id) => `${id}:failed`).sort());
      await expect.poll(() => redis.xlen(jobOutboxKey(tenant)), { timeout: 5_000 }).toBe(0);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  test('an end whose handling failed, or whose worker died holding it, is handled later', async ({
    outbox: { redisUrl, redis, store, endJobs },
  }) => {
    await endJobs(1);
    let calls = 0;
    const dispatcher = await startEndDispatcher({
      redis,
      subscriber: new Redis(redisUrl),
      store,
      logger,
      consumer: 'flaky',
      sweepMs: 100,
      claimIdleMs: 200,
      handle: async () => {
        calls += 1;
        if (calls === 1) throw new Error('the webhook queue is away');
      },
    });
    try {
      await expect.poll(() => calls, { timeout: 5_000 }).toBe(2);
    } finally {
      await dispatcher.close();
    }
  });

  test('a notice carries what the ending run knew: type, spend, the cache model and the prompt vector', async ({
    outbox: { redisUrl, redis, store, tenant },
  }) => {
    const lifecycle = new JobLifecycle(store);
    const jobId = createJobId();
    await store.create({ tenant, jobId, submission, createdAt: Date.now() });
    await lifecycle.start({ tenant, jobId, at: Date.now() });
    const spend = {
      tenant,
      model: 'openai/gpt-4o-mini',
      inputTokens: 3,
      outputTokens: 4,
      costNano: 12,
      savedNano: 0,
      savedInputTokens: 0,
      savedOutputTokens: 0,
      cached: null,
    };
    const vector = new Float32Array([0.25, -0.5, 1e-7]);
    await lifecycle.succeed({
      tenant,
      jobId,
      result: { object: 'list', model: 'm', provider: 'p', data: [], usage: { prompt_tokens: 0, total_tokens: 0 } },
      usage: { input_tokens: 3, output_tokens: 4 },
      answeredBy: 'openai/gpt-4o-mini',
      at: Date.now(),
      ledger: { fields: {}, counters: [], event: spend },
      details: { type: 'chat', cache: { model: 'openai/gpt-4o-mini', vector } },
    });
    const notices: JobEndNotice[] = [];
    const dispatcher = await startEndDispatcher({
      redis,
      subscriber: new Redis(redisUrl),
      store,
      logger,
      consumer: 'one',
      sweepMs: 100,
      handle: async (notice) => void notices.push(notice),
    });
    try {
      await expect.poll(() => notices.length, { timeout: 5_000 }).toBe(1);
      expect(notices[0]).toEqual({
        tenant,
        jobId,
        status: 'succeeded',
        type: 'chat',
        spend,
        cache: { model: 'openai/gpt-4o-mini', vector },
        model: 'openai/gpt-4o-mini',
        createdAt: expect.any(Number),
        startedAt: expect.any(Number),
        finishedAt: expect.any(Number),
      });
    } finally {
      await dispatcher.close();
    }
  });
});
