import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWebhookQueue,
  jobOutboxKey,
  jobRecordKey,
  webhookDeliveryJobId,
  createRedisConnection,
} from '@llmq/core';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { startCanary, type CanaryListener } from '../../packages/core/src/webhooks/__fixtures__/canary-listener.js';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../../packages/core/src/webhooks/__fixtures__/webhook-receiver.js';
import { apiClient, WEBHOOK_STACK_CONFIG, type JobWithWebhook } from './webhooks-support.js';

let stack: Stack;
let api: ReturnType<typeof apiClient>;
let receiver: WebhookReceiver;
let canary: CanaryListener;
/** Per path: how many attempts answer 503 before the receiver answers 200. */
const failuresBeforeSuccess = new Map<string, number>();

beforeAll(async () => {
  [stack, receiver, canary] = await Promise.all([
    startLlmqStack({
      config: WEBHOOK_STACK_CONFIG,
      workerEnv: { LLMQ_OUTBOX_CLAIM_IDLE_MS: '1000', LLMQ_OUTBOX_SWEEP_MS: '300' },
    }),
    startWebhookReceiver({ host: '127.0.0.2' }),
    startCanary('127.0.0.1'),
  ]);
  api = apiClient(stack);
  receiver.handle((request, response) => {
    const path = request.path.split('?')[0] ?? '';
    if (path === '/gone') return void response.writeHead(410).end();
    if (path === '/redirect')
      return void response.writeHead(302, { location: `http://127.0.0.1:${canary.port}/` }).end();
    const left = failuresBeforeSuccess.get(path) ?? 0;
    failuresBeforeSuccess.set(path, left - 1);
    response.writeHead(left > 0 ? 503 : 200).end('ok');
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([stack?.stop(), receiver?.close(), canary?.close()]);
});

const receivedAt = (path: string) => receiver.received.filter((entry) => entry.path === path);
const secrets = async () =>
  (await api.call('/v1/webhook-secret')).body as unknown as {
    current: { id: string; secret: string };
    previous: Array<{ id: string; secret: string }>;
  };
const verifies = (secret: string, delivery: ReceivedWebhook) => {
  try {
    new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};

describe('webhooks, end to end', () => {
  it('delivers a job’s result, signed, and shows the delivery on the job', async () => {
    const { secret } = (await secrets()).current;
    const accepted = await api.submit(`${receiver.url}/first?token=t0k3n`);
    expect(accepted.status).toBe(202);
    const id = String(accepted.body.id);
    const job = await api.settled(id);
    expect(job.webhook).toMatchObject({ url: `${receiver.url}/first?token=t0k3n`, status: 'delivered' });
    expect(job.webhook?.deliveries).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'delivered', status_code: 200, error: null }),
    ]);

    const [delivery] = receivedAt('/first?token=t0k3n');
    if (delivery === undefined) throw new Error('nothing received');
    expect(delivery.headers['webhook-id']).toBe(`msg_${id}_succeeded`);
    const event = new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>) as {
      type: string;
      data: JobWithWebhook & Record<string, unknown>;
    };
    const { webhook: _webhook, ...shown } = job as JobWithWebhook & Record<string, unknown>;
    const { webhook, ...sent } = event.data;
    expect(event.type).toBe('job.succeeded');
    expect(sent).toEqual(shown);
    expect(webhook).toEqual({ url: job.webhook?.url, status: 'pending', deliveries: [] });
    // The worker logs the receiver's origin, never the path and query that may carry a token.
    // The line is written after the delivery is recorded, so it can reach the pipe after the poll.
    const workerLines = () => stack.workers.flatMap((worker) => worker.lines).join('\n');
    await expect.poll(workerLines, { timeout: 5_000 }).toContain('webhook delivered');
    const lines = workerLines();
    expect(lines).not.toContain('t0k3n');
    expect(lines).not.toContain(secret.slice(6));
  });

  it('retries a failing receiver without repeating the LLM call; one webhook-id, every attempt verifies', async () => {
    const { secret } = (await secrets()).current;
    const callsBefore = await api.simulatorCalls();
    const paths = Array.from({ length: 5 }, (_, index) => `/flaky-${index}`);
    for (const path of paths) failuresBeforeSuccess.set(path, 3);
    const ids = await Promise.all(
      paths.map(async (path, index) => String((await api.submit(`${receiver.url}${path}`, `flaky ${index}`)).body.id)),
    );
    const jobs = await Promise.all(ids.map((id) => api.settled(id)));
    for (const [index, job] of jobs.entries()) {
      expect(job.webhook?.status).toBe('delivered');
      expect(job.webhook?.deliveries.map((delivery) => delivery.status_code)).toEqual([503, 503, 503, 200]);
      const attempts = receivedAt(paths[index] ?? '');
      expect(attempts).toHaveLength(4);
      expect(new Set(attempts.map((attempt) => attempt.headers['webhook-id']))).toEqual(
        new Set([`msg_${job.id}_succeeded`]),
      );
      expect(attempts.every((attempt) => verifies(secret, attempt))).toBe(true);
    }
    // 20 delivery attempts, 5 provider calls.
    expect((await api.simulatorCalls()) - callsBefore).toBe(5);
  });

  it('stops on 410, and does not follow a redirect', async () => {
    const gone = await api.settled(String((await api.submit(`${receiver.url}/gone`)).body.id));
    expect(gone.webhook).toMatchObject({ status: 'gone', deliveries: [expect.objectContaining({ status_code: 410 })] });

    const redirected = await api.settled(String((await api.submit(`${receiver.url}/redirect`)).body.id), ['failed']);
    expect(redirected.webhook?.deliveries).toHaveLength(4);
    expect(redirected.webhook?.deliveries.every((delivery) => delivery.status_code === 302)).toBe(true);
    expect(canary.connections()).toBe(0);
    expect(receivedAt('/gone')).toHaveLength(1);
  });

  it('redelivers on request: same webhook-id, one more attempt on the job', async () => {
    const id = String((await api.submit(`${receiver.url}/redeliver`)).body.id);
    await api.settled(id);
    const again = await api.call(`/v1/jobs/${id}/webhook/redeliver`, { method: 'POST' });
    expect(again.status).toBe(202);
    await expect.poll(() => receivedAt('/redeliver').length).toBe(2);
    const job = await api.settled(id);
    expect(job.webhook?.deliveries.map((delivery) => delivery.attempt)).toEqual([1, 1]);
    const [first, second] = receivedAt('/redeliver');
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
  });

  it('during a rotation, receivers holding the old or the new secret both verify', async () => {
    const old = (await secrets()).current;
    const rotated = (await api.call('/v1/webhook-secret/rotate', { method: 'POST', body: '{"grace_seconds":600}' }))
      .body as unknown as { current: { secret: string } };
    await api.settled(String((await api.submit(`${receiver.url}/rotation`)).body.id));
    const [delivery] = receivedAt('/rotation');
    if (delivery === undefined) throw new Error('nothing received');
    expect(verifies(old.secret, delivery)).toBe(true);
    expect(verifies(rotated.current.secret, delivery)).toBe(true);

    expect((await api.call(`/v1/webhook-secret/${old.id}`, { method: 'DELETE' })).status).toBe(200);
    await api.settled(String((await api.submit(`${receiver.url}/rotated`)).body.id));
    const [later] = receivedAt('/rotated');
    if (later === undefined) throw new Error('nothing received');
    expect(verifies(old.secret, later)).toBe(false);
    expect(verifies(rotated.current.secret, later)).toBe(true);
    // And the usual failures: a tampered body, an old timestamp.
    expect(verifies(rotated.current.secret, { ...later, body: later.body.replace('succeeded', 'failed') })).toBe(false);
    const stale = { ...later.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 600) };
    expect(verifies(rotated.current.secret, { ...later, headers: stale })).toBe(false);
  });

  it('an end whose worker died before queueing its webhook is still delivered, without calling the provider', async () => {
    const id = String((await api.submit(`${receiver.url}/recovered`)).body.id);
    await api.settled(id);
    // As if the worker had died holding the end: its outbox entry taken, its webhook never queued.
    const redis = createRedisConnection(stack.redisUrl);
    const webhookQueue = createWebhookQueue({ connection: redis });
    try {
      await webhookQueue.remove(webhookDeliveryJobId(id, 'succeeded', 0));
      await redis.hdel(jobRecordKey('alpha', id), 'webhook_status', 'webhook_deliveries');
      const outbox = jobOutboxKey('alpha');
      await redis.xadd(outbox, '*', 'id', id, 'status', 'succeeded');
      await redis.xreadgroup('GROUP', 'dispatch', 'a-worker-that-died', 'COUNT', 100, 'STREAMS', outbox, '>');
      const callsBefore = await api.simulatorCalls();
      // A live worker takes the entry over once it has been idle past LLMQ_OUTBOX_CLAIM_IDLE_MS.
      await expect.poll(() => receivedAt('/recovered').length, { timeout: 15_000 }).toBe(2);
      const job = await api.settled(id);
      expect(job.webhook?.deliveries).toHaveLength(1);
      expect(await api.simulatorCalls()).toBe(callsBefore);
      await expect.poll(() => redis.xlen(outbox), { timeout: 5_000 }).toBe(0);
    } finally {
      await webhookQueue.close();
      await redis.quit();
    }
  });
});
