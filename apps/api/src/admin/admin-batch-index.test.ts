import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { tenantTag } from '@llmq/core';
import { newBatchObject, type BatchObject } from '../openai-compat/batches/batch-object.js';
import { BatchStore } from '../openai-compat/batches/batch-store.js';
import { readBatchPage } from './admin-batch-index.js';

const test = redisTest.extend('batches', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(async () => {
    await redis.flushall();
    await redis.quit();
  });
  return { redis, store: new BatchStore(redis, 60_000) };
});

const batchAt = (ms: number): BatchObject => ({
  ...newBatchObject({
    endpoint: '/v1/chat/completions',
    inputFileId: 'file-input',
    metadata: null,
    createdAt: ms,
    expiresAt: ms,
  }),
  status: 'in_progress',
  expires_at: null,
  request_counts: { total: 1, completed: 0, failed: 0 },
});

describe('the batches of every tenant', () => {
  test("merges the tenants' indexes newest first, a page at a time, the config's tenants only", async ({ batches }) => {
    const start = Date.UTC(2026, 11, 7);
    // t1 and t2 take turns; t3 is not among the tenants asked for.
    const made = [
      ['t1', batchAt(start)],
      ['t2', batchAt(start + 1_000)],
      ['t1', batchAt(start + 2_000)],
      ['t3', batchAt(start + 3_000)],
      ['t2', batchAt(start + 4_000)],
    ] as const;
    for (const [tenant, batch] of made) await batches.store.create(tenant, batch);
    const listed = made.filter(([tenant]) => tenant !== 't3').reverse();
    const ids = (page: { batches: Array<{ tenant: string; batch: BatchObject }> }) =>
      page.batches.map(({ tenant, batch }) => [tenant, batch.id]);

    const tenants = ['t1', 't2', 't1'];
    const first = await readBatchPage({ batches: batches.store, tenants, limit: 3 });
    expect(ids(first)).toEqual(listed.slice(0, 3).map(([tenant, batch]) => [tenant, batch.id]));
    expect(first.next).toBe(listed[2]?.[1].id);
    const second = await readBatchPage({ batches: batches.store, tenants, limit: 3, after: first.next ?? '' });
    expect(ids(second)).toEqual(listed.slice(3).map(([tenant, batch]) => [tenant, batch.id]));
    expect(second.next).toBeNull();
    // A batch gone from Redis while its index still names it is left out.
    await batches.redis.del(`${tenantTag('t2')}:batch:${made[4][1].id}`);
    expect(ids(await readBatchPage({ batches: batches.store, tenants, limit: 1 }))).toEqual([]);
    expect(ids(await readBatchPage({ batches: batches.store, tenants, limit: 2 }))).toEqual([['t1', made[2][1].id]]);
  });
});
