import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { createJobId } from '../jobs/job-id.js';
import type { JobSubmission } from '../jobs/job-submission-schema.js';
import { JOB_EVENTS_CHANNEL, jobRecordKey } from './job-keys.js';
import { JobStore, toJobObject } from './job-store.js';

const submission: JobSubmission = {
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
  metadata: { doc: '42' },
};

const test = redisTest.extend('store', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(() => void redis.quit().catch(() => undefined));
  // A fresh tenant per test is a fresh key prefix: every key carries the tenant's hash tag.
  return { redis, store: new JobStore({ redis, retentionMs: 60_000 }), tenant: `t${randomUUID().slice(0, 8)}` };
});

describe('JobStore', () => {
  test('creates, reads and moves a job through its statuses', async ({ store: { store, tenant } }) => {
    const jobId = createJobId();
    const created = await store.create({ tenant, jobId, submission, createdAt: 1_763_683_200_123 });
    expect(created && toJobObject(created)).toMatchObject({
      id: jobId,
      status: 'queued',
      attempts: 0,
      created_at: 1_763_683_200,
    });
    expect(await store.create({ tenant, jobId, submission, createdAt: 1 })).toBeNull();

    const running = await store.transition({
      tenant,
      jobId,
      to: 'running',
      from: ['queued'],
      fields: { '+attempts': 1, '?started_at': 1_763_683_201_000 },
      returnRecord: true,
    });
    expect(running.outcome).toBe('ok');
    if (running.outcome === 'ok') expect(running.record?.attempts).toBe(1);

    // `?` keeps the first start time across attempts.
    await store.transition({
      tenant,
      jobId,
      to: 'running',
      from: ['running'],
      fields: { '+attempts': 1, '?started_at': 9 },
    });
    await store.transition({
      tenant,
      jobId,
      to: 'succeeded',
      from: ['running'],
      fields: { usage: JSON.stringify({ input_tokens: 3, output_tokens: 4 }), finished_at: 1_763_683_209_999 },
    });
    const record = await store.get(tenant, jobId);
    expect(record).not.toBeNull();
    if (record === null) return;
    expect(toJobObject(record)).toMatchObject({
      id: jobId,
      object: 'job',
      type: 'chat',
      status: 'succeeded',
      model: 'openai/gpt-4o-mini',
      attempts: 2,
      metadata: { doc: '42' },
      created_at: 1_763_683_200,
      started_at: 1_763_683_201,
      finished_at: 1_763_683_209,
      usage: { input_tokens: 3, output_tokens: 4 },
      error: null,
    });
  });

  test('refuses a transition from a status the job is not in', async ({ store: { store, tenant } }) => {
    const jobId = createJobId();
    await store.create({ tenant, jobId, submission, createdAt: Date.now() });
    await store.transition({ tenant, jobId, to: 'canceled', from: ['queued', 'running'] });
    expect(await store.transition({ tenant, jobId, to: 'succeeded', from: ['running'] })).toEqual({
      outcome: 'conflict',
      current: 'canceled',
    });
    expect(await store.transition({ tenant, jobId: createJobId(), to: 'running', from: ['queued'] })).toEqual({
      outcome: 'missing',
    });
  });

  test('a run that lost the job to another run can no longer write it', async ({ store: { store, tenant } }) => {
    const jobId = createJobId();
    await store.create({ tenant, jobId, submission, createdAt: Date.now() });
    const start = (run: string) =>
      store.transition({ tenant, jobId, to: 'running', from: ['queued', 'running'], fields: { run } });
    expect((await start('run-a')).outcome).toBe('ok');
    // Run A froze past its lock; run B took the job over.
    expect((await start('run-b')).outcome).toBe('ok');
    const late = await store.transition({ tenant, jobId, run: 'run-a', to: 'queued', from: ['running'] });
    expect(late).toEqual({ outcome: 'superseded', current: 'running' });
    expect((await store.get(tenant, jobId))?.status).toBe('running');
    const owner = await store.transition({ tenant, jobId, run: 'run-b', to: 'succeeded', from: ['running'] });
    expect(owner.outcome).toBe('ok');
  });

  test('counts every transition that took place, and none that was refused', async ({ store: { store, tenant } }) => {
    const jobId = createJobId();
    await store.create({ tenant, jobId, submission, createdAt: Date.now() });
    expect((await store.get(tenant, jobId))?.transitions).toBe(0);
    const start = () => store.transition({ tenant, jobId, to: 'running', from: ['queued', 'running'] });
    await start();
    // A takeover (running -> running) is a transition too: it is announced like any other.
    await start();
    await store.transition({ tenant, jobId, to: 'queued', from: ['running'] });
    expect((await store.get(tenant, jobId))?.transitions).toBe(3);
    await store.transition({ tenant, jobId, to: 'succeeded', from: ['running'] });
    expect((await store.get(tenant, jobId))?.transitions).toBe(3);
  });

  test('ended jobs expire after the retention', async ({ store: { store, redis, tenant } }) => {
    const jobId = createJobId();
    await store.create({ tenant, jobId, submission, createdAt: Date.now() });
    const key = `llmq:{t:${tenant}}:job:${jobId}`;
    expect(await redis.pttl(key)).toBe(-1);
    await store.transition({ tenant, jobId, to: 'failed', from: ['queued'] });
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  test('publishes every status change', async ({ redisUrl, store: { store, tenant } }) => {
    const subscriber = new Redis(redisUrl);
    const messages: unknown[] = [];
    subscriber.on('message', (_channel, message: string) => messages.push(JSON.parse(message)));
    await subscriber.subscribe(JOB_EVENTS_CHANNEL);
    const jobId = createJobId();
    await store.create({ tenant, jobId, submission, createdAt: Date.now() });
    await store.transition({ tenant, jobId, to: 'running', from: ['queued'] });
    await store.transition({ tenant, jobId, to: 'succeeded', from: ['running'] });
    await expect.poll(() => messages.length).toBe(2);
    expect(messages).toEqual([
      { id: jobId, tenant, status: 'running', previous: 'queued' },
      { id: jobId, tenant, status: 'succeeded', previous: 'running' },
    ]);
    await subscriber.quit();
  });

  test('lists newest first with a cursor and a status filter, skipping expired records', async ({
    store: { store, redis, tenant },
  }) => {
    const ids: string[] = [];
    for (let index = 0; index < 7; index += 1) {
      const jobId = createJobId(1_000_000 + index);
      ids.push(jobId);
      await store.create({ tenant, jobId, submission, createdAt: 1_000_000 + index });
    }
    for (const jobId of [ids[1], ids[3], ids[5]]) {
      if (jobId) await store.transition({ tenant, jobId, to: 'failed', from: ['queued'] });
    }
    const newestFirst = [...ids].reverse();
    const first = await store.list({ tenant, limit: 3 });
    expect(first.records.map((record) => record.id)).toEqual(newestFirst.slice(0, 3));
    expect(first.hasMore).toBe(true);
    const second = await store.list({ tenant, limit: 3, after: newestFirst[2] });
    expect(second.records.map((record) => record.id)).toEqual(newestFirst.slice(3, 6));
    const third = await store.list({ tenant, limit: 3, after: newestFirst[5] });
    expect(third.records.map((record) => record.id)).toEqual(newestFirst.slice(6));
    expect(third.hasMore).toBe(false);

    const failed = await store.list({ tenant, status: 'failed', limit: 10 });
    expect(failed.records.map((record) => record.id)).toEqual([ids[5], ids[3], ids[1]]);
    const queued = await store.list({ tenant, status: 'queued', limit: 10 });
    expect(queued.records.map((record) => record.id)).toEqual([ids[6], ids[4], ids[2], ids[0]]);

    // A record that expired disappears from the list and from the index.
    await redis.del(`llmq:{t:${tenant}}:job:${ids[6]}`);
    const afterExpiry = await store.list({ tenant, limit: 2 });
    expect(afterExpiry.records.map((record) => record.id)).toEqual([ids[5], ids[4]]);
    expect(await redis.zscore(`llmq:{t:${tenant}}:jobs`, ids[6] ?? '')).toBeNull();
  });

  test('tenants never see each other', async ({ store: { store, tenant } }) => {
    const jobId = createJobId();
    await store.create({ tenant, jobId, submission, createdAt: Date.now() });
    expect(await store.get(`${tenant}x`, jobId)).toBeNull();
    expect((await store.list({ tenant: `${tenant}x`, limit: 10 })).records).toEqual([]);
  });
  test('a transition that writes a field and reads it back in the same call sees its own write, in the order given', async ({
    store: { redis, store, tenant },
  }) => {
    const jobId = createJobId();
    await store.create({ tenant, jobId, submission, createdAt: 1 });
    const counters = jobRecordKey(tenant, `${jobId}-counters`);
    const moved = await store.transition({
      tenant,
      jobId,
      to: 'running',
      from: ['queued'],
      fields: {
        // Written, then appended to, incremented, deleted and set again, and counted from: each step sees the one before.
        x_list: JSON.stringify([{ n: 1 }]),
        '>x_list': JSON.stringify({ n: 2 }),
        x_spent: 40,
        '+x_spent': 2,
        x_gone: 'soon',
        '-x_gone': '',
        '?x_gone': 'again',
        '?x_first': 'first',
      },
      counters: [{ key: counters, field: 'x_spent', by: { recordField: 'x_spent' } }],
    });
    expect(moved.outcome).toBe('ok');
    const fields = await redis.hgetall(jobRecordKey(tenant, jobId));
    expect(JSON.parse(fields.x_list ?? '[]')).toEqual([{ n: 1 }, { n: 2 }]);
    expect(fields).toMatchObject({ status: 'running', x_spent: '42', x_gone: 'again', x_first: 'first' });
    expect(await redis.hget(counters, 'x_spent')).toBe('42');
  });

  // Redis Cluster routes a script by its declared keys: a key the script reaches by a name it
  // built would be on a node the call never went to. lua-declared-keys.test.ts checks the sources;
  // this checks what the store's calls really touch, as MONITOR reports it.
  test('every key its scripts touch is a key the call declares', async ({
    redisUrl,
    store: { store, redis, tenant },
  }) => {
    const client = new Redis(redisUrl);
    const monitor = await client.monitor();
    const seen: Array<{ args: string[]; source: string }> = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ args, source }));
    const jobId = createJobId();
    await store.create({ tenant, jobId, submission, createdAt: Date.now() });
    const counters = jobRecordKey(tenant, `${jobId}-counters`);
    await store.transition({ tenant, jobId, to: 'running', from: ['running', 'queued'] });
    await store.transition({ tenant, jobId, to: 'running', from: ['queued', 'running'] });
    await store.transition({ tenant, jobId, to: 'succeeded', from: ['queued'] });
    await store.transition({
      tenant,
      jobId,
      to: 'succeeded',
      from: ['running'],
      counters: [{ key: counters, field: 'n', by: 1, keyTtlMs: 60_000 }],
    });
    const ping = `llmq-monitor-end-${jobId}`;
    await store.get(ping, ping);
    await expect.poll(() => seen.some(({ args }) => args.includes(jobRecordKey(ping, ping)))).toBe(true);
    monitor.disconnect();
    await client.quit();

    let declared: string[] | null = null;
    let scripted = 0;
    for (const { args, source } of seen) {
      const [command, ...rest] = args;
      if (/^evalsha$|^eval$/i.test(command ?? '')) {
        declared = rest.slice(2, 2 + Number(rest[1]));
      } else if (source === 'lua') {
        scripted += 1;
        const touched = (await redis.call('COMMAND', 'GETKEYS', ...args).catch((error: Error) => {
          // TIME, PUBLISH: no keys.
          if (/no key arguments/i.test(error.message)) return [];
          throw error;
        })) as string[];
        for (const key of touched) expect(declared, args.join(' ')).toContain(key);
      }
    }
    // Creates (HSET, 2 ZADD), moves (ZREM, ZADD, XADD), counters (HINCRBY, PEXPIRE): all seen.
    expect(scripted).toBeGreaterThan(15);

    // The index sets were kept as before: the job left the index it was in, whatever `from` listed.
    const index = `llmq:{t:${tenant}}:jobs`;
    expect(await redis.zscore(index, jobId)).toBe('0');
    for (const status of ['queued', 'running'])
      expect(await redis.zscore(`${index}:${status}`, jobId), status).toBeNull();
    expect(await redis.zscore(`${index}:succeeded`, jobId)).toBe('0');
  });
});
