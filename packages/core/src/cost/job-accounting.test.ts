import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { createJobId } from '../jobs/job-id.js';
import type { JobSubmission } from '../jobs/job-submission-schema.js';
import { JobStore, toJobObject } from '../store/job-store.js';
import { JobAccounting } from './job-accounting.js';
import { PriceTable } from './price-table.js';
import { budgetKey } from './usage-keys.js';
import { readUsageReport } from './usage-report.js';

const submission: JobSubmission = {
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
};

const test = redisTest.extend('ledger', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(() => void redis.quit().catch(() => undefined));
  const store = new JobStore({ redis, retentionMs: 60_000 });
  const accounting = new JobAccounting({ prices: new PriceTable() });
  const tenant = `t${randomUUID().slice(0, 8)}`;
  const newJob = async (reservedNano?: number) => {
    const jobId = createJobId();
    await store.create({
      tenant,
      jobId,
      submission,
      createdAt: Date.now(),
      ...(reservedNano ? { extraFields: { budget_reserved_nano: String(reservedNano) } } : {}),
    });
    if (reservedNano) await redis.hincrby(budgetKey(tenant), 'reserved', reservedNano);
    return jobId;
  };
  return { redis, store, accounting, tenant, newJob };
});

const AT = Date.parse('2025-11-20T12:00:00Z');

describe('JobAccounting with JobStore transitions', () => {
  test('charges an answer, saves a hit, releases reservations, all in the terminal transition', async ({
    ledger: { redis, store, accounting, tenant, newJob },
  }) => {
    const answered = await newJob(5_000);
    const money = accounting.answered({
      tenant,
      model: 'openai/gpt-4o-mini',
      usage: { input_tokens: 1_000, output_tokens: 100 },
      at: AT,
    });
    await store.transition({
      tenant,
      jobId: answered,
      to: 'succeeded',
      from: ['queued'],
      fields: money.fields,
      counters: money.counters,
    });
    // 1,000 x $0.15/M + 100 x $0.60/M = $0.00015 + $0.00006.
    expect(money.event?.costNano).toBe(210_000);

    const hit = await newJob(7_000);
    const saved = accounting.cacheHit({
      tenant,
      model: 'openai/gpt-4o-mini',
      savedUsage: { input_tokens: 1_000, output_tokens: 100 },
      at: AT,
      kind: 'exact',
    });
    await store.transition({
      tenant,
      jobId: hit,
      to: 'succeeded',
      from: ['queued'],
      fields: saved.fields,
      counters: saved.counters,
    });

    const failed = await newJob(3_000);
    const none = accounting.withoutAnswer(tenant);
    await store.transition({
      tenant,
      jobId: failed,
      to: 'failed',
      from: ['queued'],
      fields: none.fields,
      counters: none.counters,
    });
    // A second end is refused, so nothing is released or charged twice.
    const again = await store.transition({
      tenant,
      jobId: failed,
      to: 'failed',
      from: ['queued', 'running'],
      fields: none.fields,
      counters: none.counters,
    });
    expect(again.outcome).toBe('conflict');

    const jobs = await Promise.all(
      [answered, hit, failed].map(async (id) => toJobObject((await store.get(tenant, id)) ?? never())),
    );
    expect(jobs.map((job) => [job.cost_usd, job.saved_usd, job.cached])).toEqual([
      [0.00021, 0, null],
      [0, 0.00021, 'exact'],
      [0, 0, null],
    ]);
    expect(await redis.hgetall(budgetKey(tenant))).toEqual({ reserved: '0', 'spent:2025-11': '210000' });

    const report = await readUsageReport(redis, { tenant, from: '2025-11-20', to: '2025-11-20', groupBy: 'model' });
    expect(report.total).toMatchObject({
      input_tokens: 1_000,
      output_tokens: 100,
      cost_usd: 0.00021,
      saved_usd: 0.00021,
      cache_hits: 1,
      unpriced_charges: 0,
    });
    expect(report.groups.map((group) => group.key)).toEqual(['openai/gpt-4o-mini']);
  });

  test('an unknown price leaves the cost null with a reason, and counts the tokens', async ({
    ledger: { redis, store, accounting, tenant, newJob },
  }) => {
    const jobId = await newJob();
    const money = accounting.answered({
      tenant,
      model: 'local/llama',
      usage: { input_tokens: 7, output_tokens: 3 },
      at: AT,
    });
    await store.transition({
      tenant,
      jobId,
      to: 'succeeded',
      from: ['queued'],
      fields: money.fields,
      counters: money.counters,
    });
    const job = toJobObject((await store.get(tenant, jobId)) ?? never());
    expect(job.cost_usd).toBeNull();
    expect(job.cost_unknown_reason).toContain('no price for "local/llama"');
    const report = await readUsageReport(redis, { tenant, from: '2025-11-20', to: '2025-11-20' });
    expect(report.total).toMatchObject({ input_tokens: 7, output_tokens: 3, cost_usd: 0, unpriced_charges: 1 });
  });

  test('a charge on the way (a semantic lookup) is part of the job cost and the totals', async ({
    ledger: { redis, store, accounting, tenant, newJob },
  }) => {
    const jobId = await newJob();
    await accounting.chargeOnTheWay(redis, {
      tenant,
      jobId,
      model: 'openai/text-embedding-3-small',
      usage: { input_tokens: 50, output_tokens: 0 },
      at: AT,
    });
    const money = accounting.cacheHit({
      tenant,
      model: 'openai/gpt-4o-mini',
      savedUsage: { input_tokens: 10, output_tokens: 10 },
      at: AT,
      kind: 'semantic',
      similarity: 0.97,
    });
    await store.transition({
      tenant,
      jobId,
      to: 'succeeded',
      from: ['queued'],
      fields: money.fields,
      counters: money.counters,
    });
    const job = toJobObject((await store.get(tenant, jobId)) ?? never());
    // 50 x $0.02/M.
    expect(job).toMatchObject({ cost_usd: 0.000001, saved_usd: 0.0000075, cached: 'semantic', cache_similarity: 0.97 });
    const report = await readUsageReport(redis, { tenant, from: '2025-11-20', to: '2025-11-20' });
    expect(report.total.cost_usd).toBe(0.000001);
  });
});

function never(): never {
  throw new Error('the record is missing');
}
