import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { describe, expect } from 'vitest';
import {
  createJobSubmissionSchema,
  createLlmQueue,
  createLogger,
  createModelCatalog,
  JobStore,
  jobRecordKey,
  llmqConfigSchema,
  tenantTag,
  type JobSubmission,
} from '@llmq/core';
import { redisTest } from '@llmq/devkit/vitest';
import { DEFAULT_JOB_POLICY } from '../../config.js';
import { createJobAcceptor } from '../../job-acceptance.js';
import { createJobCanceller } from '../../job-cancel.js';
import { BatchMetrics } from '../../metrics/batch-metrics.js';
import { acceptChunk } from './batch-acceptance.js';
import { BatchFileStore } from './batch-file-store.js';
import { intakeBatch } from './batch-intake.js';
import { batchJobId } from './batch-job-id.js';
import { newBatchObject } from './batch-object.js';
import { BatchRunner, LINES_PER_CHUNK } from './batch-runner.js';
import { BatchStore } from './batch-store.js';

const LOCK_MS = 300;
/** The lock a dead process left behind. */
const DEAD_LOCK_MS = 1_000;
const LINES = LINES_PER_CHUNK * 2 + 200;

const test = redisTest.extend('batch', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const catalog = createModelCatalog(llmqConfigSchema.parse({}));
  // A queue of its own per test: its jobs are counted.
  const queue = createLlmQueue({ connection: redis, keepFinishedMs: 60_000 });
  onCleanup(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  });
  const store = new JobStore({ redis, retentionMs: 60_000 });
  const files = new BatchFileStore({ redis, retentionMs: 60_000 });
  const batches = new BatchStore(redis, 60_000);
  const acceptanceOptions = { queue, store, catalog, defaultOutputTokens: 16, jobPolicy: DEFAULT_JOB_POLICY };
  const acceptance = { ...acceptanceOptions, accept: createJobAcceptor(acceptanceOptions), redis };
  const submissionSchema = createJobSubmissionSchema(catalog);
  const runner = new BatchRunner({
    batches,
    files,
    store,
    acceptance,
    cancelJob: createJobCanceller({ store, queue, redis }),
    submissionSchema,
    lines: 'defer',
    metrics: new BatchMetrics(new Registry()),
    logger: createLogger({ name: 'test', level: 'silent' }),
    lockMs: LOCK_MS,
  });
  const tenant = `t${randomUUID().slice(0, 8)}`;
  const lines = Array.from({ length: LINES }, (_, index) =>
    JSON.stringify({
      custom_id: `line-${index}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `hi ${index}` }], max_tokens: 5 },
    }),
  );
  const file = await files.create({
    tenant,
    filename: 'input.jsonl',
    purpose: 'batch',
    content: Buffer.from(`${lines.join('\n')}\n`),
    lines: LINES,
  });
  const now = Date.now();
  const batch = newBatchObject({
    endpoint: '/v1/chat/completions',
    inputFileId: file.id,
    metadata: null,
    createdAt: now,
    expiresAt: now + 3_600_000,
  });
  await batches.create(tenant, batch);
  return {
    redis,
    queue,
    store,
    files,
    batches,
    acceptance,
    submissionSchema,
    lines: 'defer' as const,
    runner,
    tenant,
    batch,
  };
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('BatchRunner', () => {
  test('takes over a batch whose process died mid-chunk: every line accepted once, none lost', async ({
    batch: context,
  }) => {
    const { redis, queue, store, batches, acceptance, runner, tenant, batch } = context;
    // What a process leaves when it dies: its lock (expiring), the intake done, one chunk committed,
    // and the next chunk half made: records written, never enqueued.
    await intakeBatch({ ...context, tenant, batch });
    const chunk = async (start: number) => ({
      tenant,
      start,
      lines: await batches.lines(tenant, batch.id, start, LINES_PER_CHUNK),
      requests: await batches.requests(tenant, batch.id, start, LINES_PER_CHUNK),
    });
    const first = await acceptChunk(acceptance, await chunk(0));
    await batches.commitChunk(tenant, batch.id, { ...first, next: LINES_PER_CHUNK });
    const half = await chunk(LINES_PER_CHUNK);
    for (const [position, request] of half.requests.slice(0, LINES_PER_CHUNK / 2).entries()) {
      await store.create({
        tenant,
        jobId: batchJobId(batch.id, LINES_PER_CHUNK + position),
        submission: JSON.parse(request) as JobSubmission,
        createdAt: Date.now(),
      });
    }

    expect(await batches.lock(tenant, batch.id, 'dead-process', DEAD_LOCK_MS)).toBe(true);

    // A read while the lock is held leaves the batch alone; once it expires, the next read takes over.
    await runner.run(tenant, batch.id);
    expect((await batches.progress(tenant, batch.id)).cursor).toBe(LINES_PER_CHUNK);
    await sleep(DEAD_LOCK_MS + 50);
    await runner.run(tenant, batch.id);

    const progress = await batches.progress(tenant, batch.id);
    expect(progress).toMatchObject({ cursor: LINES, accepted: LINES, rejected: 0, stoppedAt: null });
    expect(await batches.pendingCount(tenant, batch.id)).toBe(LINES);
    const pipeline = redis.pipeline();
    for (let index = 0; index < LINES; index += 1) pipeline.exists(jobRecordKey(tenant, batchJobId(batch.id, index)));
    expect(((await pipeline.exec()) ?? []).every(([, exists]) => exists === 1)).toBe(true);
    // A batch's lines may wait a day: each is a deferrable job.
    const job = await queue.getJob(batchJobId(batch.id, LINES - 1));
    expect(job?.data.deferrable).toBe(true);
    expect((await store.get(tenant, batchJobId(batch.id, 0)))?.submission.completion_window).toBe('24h');
    // The half-made records reached the queue too, and no job is there twice.
    expect((await queue.getJobCounts('wait')).wait).toBe(LINES);
    expect(await batches.get(tenant, batch.id)).toMatchObject({
      status: 'in_progress',
      request_counts: { total: LINES, completed: 0, failed: 0 },
    });
  });

  test('expires a batch past its window: what is left is canceled, each line in the error file', async ({
    batch: context,
  }) => {
    const { batches, files, store, runner, tenant, batch } = context;
    await runner.run(tenant, batch.id);
    expect((await batches.progress(tenant, batch.id)).accepted).toBe(LINES);
    const current = await batches.get(tenant, batch.id);
    if (current === null) throw new Error('the batch is gone');
    await batches.save(tenant, { ...current, expires_at: Math.floor(Date.now() / 1000) - 1 });

    await runner.run(tenant, batch.id);
    const ended = await batches.get(tenant, batch.id);
    expect(ended).toMatchObject({
      status: 'expired',
      output_file_id: null,
      request_counts: { total: LINES, completed: 0, failed: LINES },
    });
    expect(ended?.expired_at).not.toBeNull();
    const content = await files.content(tenant, ended?.error_file_id ?? '');
    const chunks: Buffer[] = [];
    for await (const piece of content ?? []) chunks.push(piece);
    const lines = Buffer.concat(chunks).toString().trim().split('\n');
    expect(lines).toHaveLength(LINES);
    for (const line of lines)
      expect(JSON.parse(line)).toMatchObject({ response: null, error: { code: 'batch_expired' } });
    expect((await store.get(tenant, batchJobId(batch.id, 0)))?.status).toBe('canceled');
  });

  test('finishes a batch stored before batches ran in the background, making no job again', async ({
    batch: context,
  }) => {
    const { redis, queue, store, batches, acceptance, runner, tenant, batch } = context;
    // The earlier layout: every job accepted at creation, no progress hash, no usage in the object.
    const submission = {
      type: 'chat',
      request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    };
    const records = await acceptance.accept(tenant, [submission, submission] as JobSubmission[]);
    const { usage: _usage, ...earlier } = {
      ...batch,
      status: 'in_progress' as const,
      request_counts: { total: 2, completed: 0, failed: 0 },
    };
    const key = `${tenantTag(tenant)}:batch:${batch.id}`;
    await redis
      .multi()
      .set(key, JSON.stringify(earlier))
      .rpush(
        `${key}:lines`,
        ...records.map((record, index) => JSON.stringify({ customId: `old-${index}`, jobId: record.id })),
      )
      .sadd(`${key}:pending`, ...records.map((record) => record.id))
      .exec();
    const cancel = createJobCanceller({ store, queue, redis });
    for (const record of records) await cancel(tenant, record.id);

    await runner.run(tenant, batch.id);
    expect(await batches.get(tenant, batch.id)).toMatchObject({
      status: 'completed',
      request_counts: { total: 2, completed: 0, failed: 2 },
      usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 },
    });
    expect(await redis.exists(jobRecordKey(tenant, batchJobId(batch.id, 0)))).toBe(0);
  });
});
