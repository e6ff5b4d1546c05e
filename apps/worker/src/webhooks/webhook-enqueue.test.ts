import { Webhook } from 'standardwebhooks';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import {
  createJobEndedWebhookHook,
  enqueueJobEndedWebhook,
  enqueueWebhookRedelivery,
  jobRecordKey,
  webhookDeliveryJobId,
} from '@llmq/core';
import { startWebhookHarness } from './__fixtures__/webhook-harness.js';

// A long first retry, so a delivery that failed once stays waiting while the test looks at it.
const test = redisTest.extend('harness', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const harness = await startWebhookHarness({ redisUrl, retryDelaysMs: [60_000] });
  onCleanup(() => harness.close());
  return harness;
});

const verifies = (secret: string, delivery: { body: string; headers: Record<string, unknown> }) => {
  try {
    new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};

describe('queueing webhooks', () => {
  test('queues an event once however often the hook is called', async ({ harness }) => {
    harness.receiver.handle((_request, response) => response.writeHead(200).end());
    const record = await harness.endedJob(`${harness.receiver.url}/once`);
    // A worker that crashed after the transition calls it again for the same ended record.
    await enqueueJobEndedWebhook(harness.queue, record);
    await enqueueJobEndedWebhook(harness.queue, record);
    const settled = await harness.settled(record);
    expect(settled.webhookDeliveries).toHaveLength(1);
    expect(harness.receiver.received.filter((delivery) => delivery.path === '/once')).toHaveLength(1);
    // Once an attempt is on the record, a late call does nothing even after BullMQ forgot the job.
    await harness.queue.remove(webhookDeliveryJobId(record.id, 'succeeded', 0));
    expect(await enqueueJobEndedWebhook(harness.queue, settled)).toBe(false);
  });

  test('queues nothing for a job without a webhook or not ended', async ({ harness }) => {
    const record = await harness.endedJob(`${harness.receiver.url}/x`);
    expect(await enqueueJobEndedWebhook(harness.queue, { ...record, submission: {} })).toBe(false);
    expect(await enqueueJobEndedWebhook(harness.queue, { ...record, status: 'running' })).toBe(false);
  });

  test('the job-ended hook reads only what it needs and queues when there is a webhook', async ({ harness }) => {
    const hook = createJobEndedWebhookHook({ queue: harness.queue, redis: harness.redis });
    const record = await harness.endedJob(`${harness.receiver.url}/hook`, 'failed', undefined, { enqueue: false });
    await harness.redis.hset(jobRecordKey(record.tenant, record.id), 'webhook_url', '');
    await hook(record.tenant, record.id);
    expect(await harness.queue.getJob(webhookDeliveryJobId(record.id, 'failed', 0))).toBeUndefined();
    // A record written before `webhook_url` existed falls back to its submission.
    await harness.redis.hdel(jobRecordKey(record.tenant, record.id), 'webhook_url', 'webhook_status');
    await hook(record.tenant, record.id);
    expect((await harness.queue.getJob(webhookDeliveryJobId(record.id, 'failed', 0)))?.data).toEqual({
      tenant: record.tenant,
      jobId: record.id,
      status: 'failed',
      sequence: 0,
    });
    await hook(record.tenant, 'job_00000000000000000000000000');
  });

  test('redelivers an event with the same webhook-id and a fresh attempt count', async ({ harness }) => {
    harness.receiver.handle((_request, response) => response.writeHead(200).end());
    const received = () => harness.receiver.received.filter((delivery) => delivery.path === '/again');
    const record = await harness.endedJob(`${harness.receiver.url}/again`);
    await harness.settled(record);
    expect(await enqueueWebhookRedelivery(harness.queue, harness.deliveries, { ...record, status: 'succeeded' })).toBe(
      true,
    );
    await expect.poll(() => received().length).toBe(2);
    const settled = await harness.settled(record);
    expect(settled.webhookDeliveries.map((delivery) => delivery.attempt)).toEqual([1, 1]);
    const [first, second] = received();
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(second?.body).toBe(first?.body);
  });

  test('a redelivery replaces a delivery waiting for its retry', async ({ harness }) => {
    let healthy = false;
    harness.receiver.handle((_request, response) => response.writeHead(healthy ? 200 : 503).end());
    const record = await harness.endedJob(`${harness.receiver.url}/flaky`);
    const waiting = await harness.queue.getJob(webhookDeliveryJobId(record.id, 'succeeded', 0));
    await expect.poll(() => waiting?.getState()).toBe('delayed');
    expect((await harness.store.get(record.tenant, record.id))?.webhookStatus).toBe('pending');

    healthy = true;
    await enqueueWebhookRedelivery(harness.queue, harness.deliveries, { ...record, status: 'succeeded' });
    const settled = await harness.settled(record);
    expect(settled.webhookStatus).toBe('delivered');
    expect(settled.webhookDeliveries.map((delivery) => delivery.status_code)).toEqual([503, 200]);
    expect(await harness.queue.getJob(webhookDeliveryJobId(record.id, 'succeeded', 0))).toBeUndefined();
  });

  test('during a rotation, receivers holding the old or the new secret both verify', async ({ harness }) => {
    harness.receiver.handle((_request, response) => response.writeHead(200).end());
    const first = await harness.endedJob(`${harness.receiver.url}/rotating`);
    const { tenant } = first;
    const old = (await harness.secrets.get(tenant)).current;
    await harness.settled(first);
    const rotated = await harness.secrets.rotate(tenant, 3_600_000);

    const during = await harness.endedJob(`${harness.receiver.url}/rotating`, 'succeeded', tenant);
    const settled = await harness.settled(during);
    expect(settled.webhookStatus).toBe('delivered');
    const delivery = harness.receiver.received.findLast((entry) => entry.body.includes(during.id));
    if (delivery === undefined) throw new Error('nothing received');
    expect(delivery.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(verifies(rotated.current.secret, delivery)).toBe(true);
    expect(verifies(old.secret, delivery)).toBe(true);

    expect(await harness.secrets.deletePrevious(tenant, old.id)).toBe('deleted');
    const after = await harness.endedJob(`${harness.receiver.url}/rotating`, 'succeeded', tenant);
    await harness.settled(after);
    const last = harness.receiver.received.findLast((entry) => entry.body.includes(after.id));
    if (last === undefined) throw new Error('nothing received');
    expect(verifies(rotated.current.secret, last)).toBe(true);
    expect(verifies(old.secret, last)).toBe(false);
  });
});
