import { Webhook } from 'standardwebhooks';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { webhookDeliveryJobId, type WebhookLookup } from '@llmq/core';
import { startWebhookHarness } from './__fixtures__/webhook-harness.js';

const RETRY_DELAYS_MS = [100, 150, 150];
// A name that resolves to the forbidden loopback address, as DNS might.
const lookup: WebhookLookup = async (hostname) =>
  hostname === 'sneaky.test' ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '127.0.0.2', family: 4 }];

const test = redisTest.extend('harness', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const harness = await startWebhookHarness({ redisUrl, retryDelaysMs: RETRY_DELAYS_MS, lookup });
  onCleanup(() => harness.close());
  return harness;
});

describe('webhook delivery worker', () => {
  test('retries a receiver that answers 503 until it recovers; one webhook-id, every attempt signed and recorded', async ({
    harness,
  }) => {
    let calls = 0;
    harness.receiver.handle((_request, response) => {
      calls += 1;
      response.writeHead(calls <= 3 ? 503 : 200).end();
    });
    const record = await harness.endedJob(`${harness.receiver.url}/recovering`);
    const settled = await harness.settled(record);
    expect(settled.webhookStatus).toBe('delivered');

    const attempts = harness.receiver.received.filter((delivery) => delivery.path === '/recovering');
    expect(attempts).toHaveLength(4);
    const verifier = new Webhook(await harness.secrets.signingSecrets(record.tenant).then(([secret]) => secret ?? ''));
    for (const attempt of attempts) {
      expect(attempt.headers['webhook-id']).toBe(`msg_${record.id}_succeeded`);
      expect(() => verifier.verify(attempt.body, attempt.headers as Record<string, string>)).not.toThrow();
    }
    // One event, one body: only the signature timestamp moves between attempts.
    expect(new Set(attempts.map((attempt) => attempt.body)).size).toBe(1);
    const event = JSON.parse(attempts[0]?.body ?? '{}') as { type: string; timestamp: string; data: { id: string } };
    expect(event).toMatchObject({ type: 'job.succeeded', data: { id: record.id, status: 'succeeded' } });
    expect(new Date(event.timestamp).getTime()).toBe(record.finishedAt);
    // The gaps follow the schedule.
    const gaps = attempts.slice(1).map((attempt, index) => attempt.at - (attempts[index]?.at ?? 0));
    for (const [index, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual((RETRY_DELAYS_MS[index] ?? 0) - 5);

    expect(
      settled.webhookDeliveries.map((delivery) => [delivery.attempt, delivery.status_code, delivery.outcome]),
    ).toEqual([
      [1, 503, 'failed'],
      [2, 503, 'failed'],
      [3, 503, 'failed'],
      [4, 200, 'delivered'],
    ]);
    for (const delivery of settled.webhookDeliveries) {
      expect(delivery.duration_ms).toBeGreaterThanOrEqual(0);
      expect(delivery.attempted_at * 1000).toBeGreaterThanOrEqual(record.finishedAt ?? Infinity);
    }
  });

  test('stops for good on 410 Gone', async ({ harness }) => {
    harness.receiver.handle((_request, response) => response.writeHead(410).end());
    const record = await harness.endedJob(`${harness.receiver.url}/gone`, 'failed');
    const settled = await harness.settled(record);
    expect(settled.webhookStatus).toBe('gone');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const after = await harness.store.get(record.tenant, record.id);
    expect(after?.webhookDeliveries).toHaveLength(1);
    expect(after?.webhookDeliveries[0]).toMatchObject({ status_code: 410, outcome: 'gone' });
    const job = await harness.queue.getJob(webhookDeliveryJobId(record.id, 'failed', 0));
    expect(await job?.getState()).toBe('completed');
  });

  test('fails after the last scheduled attempt', async ({ harness }) => {
    harness.receiver.handle((_request, response) => response.writeHead(500).end());
    const record = await harness.endedJob(`${harness.receiver.url}/broken`);
    const settled = await harness.settled(record, ['failed']);
    expect(settled.webhookDeliveries).toHaveLength(RETRY_DELAYS_MS.length + 1);
    expect(settled.webhookDeliveries.every((delivery) => delivery.status_code === 500)).toBe(true);
    const job = await harness.queue.getJob(webhookDeliveryJobId(record.id, 'succeeded', 0));
    expect(await job?.getState()).toBe('failed');
  });

  test('does not follow a redirect: a 3xx is a failed attempt', async ({ harness }) => {
    const location = `http://127.0.0.1:${harness.canary.port}/steal`;
    harness.receiver.handle((_request, response) => response.writeHead(307, { location }).end());
    const record = await harness.endedJob(`${harness.receiver.url}/redirecting`);
    const settled = await harness.settled(record, ['failed']);
    expect(settled.webhookDeliveries[0]).toMatchObject({
      status_code: 307,
      error: 'the receiver answered 307; redirects are not followed',
    });
    expect(harness.canary.connections()).toBe(0);
  });

  test('refuses a name that resolves to a forbidden address at send time, once, without connecting', async ({
    harness,
  }) => {
    const record = await harness.endedJob(`http://sneaky.test:${harness.canary.port}/hook`);
    const settled = await harness.settled(record);
    expect(settled.webhookStatus).toBe('failed');
    expect(settled.webhookDeliveries).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        status_code: null,
        error: 'refused: "sneaky.test" resolves to 127.0.0.1, a loopback address',
      }),
    ]);
    expect(harness.canary.connections()).toBe(0);
  });

  test('sends job.canceled for a canceled job', async ({ harness }) => {
    harness.receiver.handle((_request, response) => response.writeHead(202).end());
    const record = await harness.endedJob(`${harness.receiver.url}/canceled`, 'canceled');
    await harness.settled(record);
    const received = harness.receiver.received.filter((delivery) => delivery.path === '/canceled');
    expect(received).toHaveLength(1);
    expect(received[0]?.headers['webhook-id']).toBe(`msg_${record.id}_canceled`);
    expect(JSON.parse(received[0]?.body ?? '{}')).toMatchObject({ type: 'job.canceled', data: { status: 'canceled' } });
  });
});
