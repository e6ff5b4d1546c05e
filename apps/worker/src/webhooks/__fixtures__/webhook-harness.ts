import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import {
  createJobId,
  createLogger,
  createWebhookQueue,
  enqueueJobEndedWebhook,
  JobStore,
  WebhookAllowlist,
  WebhookDeliveryLog,
  WebhookSecretStore,
  type EndedJobStatus,
  type JobRecord,
  type JobSubmission,
  type WebhookLookup,
  type WebhookStatus,
} from '@llmq/core';
import { startCanary } from '../../../../../packages/core/src/webhooks/__fixtures__/canary-listener.js';
import { startWebhookReceiver } from '../../../../../packages/core/src/webhooks/__fixtures__/webhook-receiver.js';
import { createWebhookWorker } from '../webhook-worker.js';

/**
 * A real Redis, webhook queue and worker in this process, a receiver on 127.0.0.2 (the one
 * loopback address allowed) and canaries on 127.0.0.1 and ::1 that must see no connection.
 */
export async function startWebhookHarness(options: {
  redisUrl: string;
  retryDelaysMs: number[];
  lookup?: WebhookLookup;
}) {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const store = new JobStore({ redis, retentionMs: 600_000 });
  const secrets = new WebhookSecretStore({ redis });
  const deliveries = new WebhookDeliveryLog(redis);
  const queue = createWebhookQueue({ connection: redis, delaysMs: options.retryDelaysMs });
  const receiver = await startWebhookReceiver({ host: '127.0.0.2' });
  const canary = await startCanary('127.0.0.1');
  const worker = createWebhookWorker({
    connection: new Redis(options.redisUrl, { maxRetriesPerRequest: null }),
    store,
    secrets,
    deliveries,
    logger: createLogger({ name: 'worker', level: 'silent' }),
    allowlist: new WebhookAllowlist({ allowCidrs: ['127.0.0.2/32'] }),
    retryDelaysMs: options.retryDelaysMs,
    retryJitter: 0,
    timeoutMs: 2_000,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  await worker.waitUntilReady();

  /** A job record that has just ended, with its webhook queued the way the LLM worker does it. */
  const endedJob = async (
    url: string,
    status: EndedJobStatus = 'succeeded',
    tenant = `t${randomUUID().slice(0, 8)}`,
    options: { enqueue?: boolean } = {},
  ) => {
    const jobId = createJobId();
    const submission: JobSubmission = {
      type: 'chat',
      request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      webhook: { url },
    };
    await store.create({ tenant, jobId, submission, createdAt: Date.now() - 1000 });
    const fields: Record<string, string | number> =
      status === 'succeeded'
        ? { result: JSON.stringify({ object: 'chat.completion', choices: [] }), finished_at: Date.now() }
        : {
            error: JSON.stringify({ type: status === 'failed' ? 'overloaded' : 'canceled', message: 'no' }),
            finished_at: Date.now(),
          };
    await store.transition({ tenant, jobId, to: status, from: ['queued'], fields });
    const record = await store.get(tenant, jobId);
    if (record === null) throw new Error('the record vanished');
    if (options.enqueue !== false) expect(await enqueueJobEndedWebhook(queue, record)).toBe(true);
    return record;
  };

  /** The record once its webhook reached one of `statuses`, and no attempt is in flight. */
  const settled = async (record: JobRecord, statuses: WebhookStatus[] = ['delivered', 'failed', 'gone']) => {
    let latest: JobRecord | null = null;
    await expect
      .poll(
        async () => {
          latest = await store.get(record.tenant, record.id);
          return latest?.webhookStatus;
        },
        { timeout: 8_000, interval: 25 },
      )
      .toBeOneOf(statuses);
    if (latest === null) throw new Error('the record vanished');
    return latest as JobRecord;
  };

  return {
    redis,
    store,
    secrets,
    deliveries,
    queue,
    worker,
    receiver,
    canary,
    endedJob,
    settled,
    close: async () => {
      await worker.close();
      await queue.close();
      await Promise.all([receiver.close(), canary.close()]);
      await redis.quit();
    },
  };
}

export type WebhookHarness = Awaited<ReturnType<typeof startWebhookHarness>>;
