import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import {
  createLlmQueue,
  createLogger,
  createModelCatalog,
  createWebhookQueue,
  JobStore,
  jobOutboxKey,
  llmqConfigSchema,
  WebhookAllowlist,
  WebhookDeliveryLog,
  WebhookSecretStore,
  webhookDeliveryJobId,
} from '@llmq/core';
import { createApp } from '../app.js';
import { JobEvents } from '../job-events.js';

const KEY_A = 'key-tenant-a-0123456789';
const KEY_B = 'key-tenant-b-0123456789';

const test = redisTest.extend('api', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  const logger = createLogger({ name: 'api', level: 'silent' });
  const queue = createLlmQueue({ connection: redis });
  const webhookQueue = createWebhookQueue({ connection: redis });
  const store = new JobStore({ redis });
  const events = await JobEvents.start({ subscriber: new Redis(redisUrl), logger });
  const app = createApp({
    queue,
    store,
    events,
    redis,
    logger,
    webhooks: {
      queue: webhookQueue,
      secrets: new WebhookSecretStore({ redis }),
      deliveries: new WebhookDeliveryLog(redis),
      allowlist: new WebhookAllowlist({ allowCidrs: ['127.0.0.2/32'] }),
      secretGraceMs: 3_600_000,
    },
    config: {
      apiKeys: new Map([
        [KEY_A, 'a'],
        [KEY_B, 'b'],
      ]),
      catalog: createModelCatalog(llmqConfigSchema.parse({})),
      maxBodyBytes: 65_536,
    },
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(async () => {
    server.close();
    await events.close();
    await Promise.all([queue.close(), webhookQueue.close()]);
    await redis.quit();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (path: string, init: RequestInit & { key?: string } = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${init.key ?? KEY_A}`);
    if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    const response = await fetch(`${base}${path}`, { ...init, headers });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> };
  };
  return { call, store, webhookQueue, redis };
});

const job = (url?: string) =>
  JSON.stringify({
    type: 'chat',
    request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    ...(url === undefined ? {} : { webhook: { url } }),
  });

interface SecretBody {
  current: { id: string; secret: string; created_at: number };
  previous: Array<{ id: string; secret: string; expires_at: number }>;
}

describe('webhook routes', () => {
  test('GET /v1/webhook-secret creates the secret on first use, per tenant, never cached', async ({ api }) => {
    const first = await api.call('/v1/webhook-secret');
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const body = first.body as unknown as SecretBody;
    expect(body).toMatchObject({ object: 'webhook_secret', previous: [] });
    expect(body.current.secret).toMatch(/^whsec_/);
    expect((await api.call('/v1/webhook-secret')).body).toEqual(first.body);
    const other = (await api.call('/v1/webhook-secret', { key: KEY_B })).body as unknown as SecretBody;
    expect(other.current.secret).not.toBe(body.current.secret);
  });

  test('rotation keeps the old secret for the grace period; DELETE retires it early', async ({ api }) => {
    const before = (await api.call('/v1/webhook-secret')).body as unknown as SecretBody;
    const rotated = await api.call('/v1/webhook-secret/rotate', { method: 'POST' });
    const after = rotated.body as unknown as SecretBody;
    expect(after.current.id).not.toBe(before.current.id);
    expect(after.previous[0]).toMatchObject({ id: before.current.id, secret: before.current.secret });
    expect(after.previous[0]?.expires_at).toBeGreaterThan(Date.now() / 1000 + 3_500);

    const short = await api.call('/v1/webhook-secret/rotate', { method: 'POST', body: '{"grace_seconds":60}' });
    const shortBody = short.body as unknown as SecretBody;
    expect(shortBody.previous[0]?.expires_at).toBeLessThanOrEqual(Date.now() / 1000 + 61);

    expect((await api.call(`/v1/webhook-secret/${shortBody.current.id}`, { method: 'DELETE' })).status).toBe(409);
    expect((await api.call('/v1/webhook-secret/whs_nothing', { method: 'DELETE' })).status).toBe(404);
    const deleted = await api.call(`/v1/webhook-secret/${before.current.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect((deleted.body as unknown as SecretBody).previous.map((entry) => entry.id)).toEqual([after.current.id]);
    const bad = await api.call('/v1/webhook-secret/rotate', { method: 'POST', body: '{"grace_seconds":-1}' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toEqual({ type: 'invalid_request', message: 'grace_seconds: must be at least 0' });
  });

  test('a rotate body that is not JSON is a 415 naming its type, and rotates nothing', async ({ api }) => {
    const before = (await api.call('/v1/webhook-secret')).body as unknown as SecretBody;
    const tail = 'is not JSON: send {"grace_seconds": N} with "Content-Type: application/json", or no body';
    for (const [contentType, body, sent] of [
      ['text/plain', '{"grace_seconds":60}', 'a body of Content-Type "text/plain"'],
      [
        'application/x-www-form-urlencoded',
        'grace_seconds=60',
        'a body of Content-Type "application/x-www-form-urlencoded"',
      ],
      ['text/plain; charset=utf-8', 'rotate', 'a body of Content-Type "text/plain"'],
    ]) {
      const refused = await api.call('/v1/webhook-secret/rotate', {
        method: 'POST',
        body,
        headers: { 'content-type': contentType as string },
      });
      expect(refused.status, contentType).toBe(415);
      expect(refused.body.error).toEqual({ type: 'unsupported_media_type', message: `${sent} ${tail}` });
    }
    expect((await api.call('/v1/webhook-secret')).body).toEqual(before);
    // No body at all is the documented way to rotate with the default grace.
    const rotated = await api.call('/v1/webhook-secret/rotate', { method: 'POST' });
    expect(rotated.status).toBe(200);
    expect((rotated.body as unknown as SecretBody).current.id).not.toBe(before.current.id);
  });

  test.for([
    ['http://127.0.0.1:9000/hook', 'webhook.url: refused: 127.0.0.1 is a loopback address'],
    ['http://2130706433/hook', 'webhook.url: refused: 127.0.0.1 is a loopback address'],
    [
      'http://[::ffff:169.254.169.254]/',
      'webhook.url: refused: ::ffff:a9fe:a9fe is the IPv4-mapped form of 169.254.169.254, a cloud metadata address',
    ],
    ['http://localhost:9000/', 'webhook.url: refused: "localhost" names this machine'],
    ['https://user:pw@example.com/', 'webhook.url: must not carry credentials'],
    ['gopher://example.com/', 'webhook.url: must be an absolute http(s) URL'],
  ])('refuses webhook %s at submit', async ([url, message], { api }) => {
    const response = await api.call('/v1/jobs', { method: 'POST', body: job(url) });
    expect(response.status).toBe(400);
    expect((response.body.error as { message: string }).message).toContain(message);
  });

  test('accepts an allowlisted address and shows the webhook as pending', async ({ api }) => {
    const response = await api.call('/v1/jobs', { method: 'POST', body: job('http://127.0.0.2:9000/hook') });
    expect(response.status).toBe(202);
    expect(response.body.webhook).toEqual({ url: 'http://127.0.0.2:9000/hook', status: 'pending', deliveries: [] });
  });

  test('redeliver: 404 like GET, 409 before the end or without a webhook, 202 after', async ({ api }) => {
    const missing = await api.call('/v1/jobs/job_00000000000000000000000000/webhook/redeliver', { method: 'POST' });
    expect(missing.status).toBe(404);
    const created = await api.call('/v1/jobs', { method: 'POST', body: job('https://example.com/hook') });
    const id = String(created.body.id);
    const foreign = await api.call(`/v1/jobs/${id}/webhook/redeliver`, { method: 'POST', key: KEY_B });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toEqual({ type: 'not_found', message: `no job with id "${id}"` });
    const early = await api.call(`/v1/jobs/${id}/webhook/redeliver`, { method: 'POST' });
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ message: `job "${id}" has not ended yet (queued)` });

    const bare = await api.call('/v1/jobs', { method: 'POST', body: job() });
    const bareId = String(bare.body.id);
    await api.store.transition({ tenant: 'a', jobId: bareId, to: 'failed', from: ['queued'] });
    const noWebhook = await api.call(`/v1/jobs/${bareId}/webhook/redeliver`, { method: 'POST' });
    expect(noWebhook.status).toBe(409);
    expect(noWebhook.body.error).toMatchObject({ message: `job "${bareId}" has no webhook` });

    await api.store.transition({
      tenant: 'a',
      jobId: id,
      to: 'succeeded',
      from: ['queued'],
      fields: { finished_at: Date.now() },
    });
    const redelivered = await api.call(`/v1/jobs/${id}/webhook/redeliver`, { method: 'POST' });
    expect(redelivered.status).toBe(202);
    expect(redelivered.body).toMatchObject({ id, webhook: { status: 'pending' } });
    expect(await api.webhookQueue.getJob(webhookDeliveryJobId(id, 'succeeded', 1))).toBeDefined();
  });

  test('canceling a job announces its end in the tenant outbox, for the workers to queue its webhook', async ({
    api,
  }) => {
    const created = await api.call('/v1/jobs', { method: 'POST', body: job('https://example.com/hook') });
    const id = String(created.body.id);
    expect((await api.call(`/v1/jobs/${id}`, { method: 'DELETE' })).status).toBe(200);
    const entries = await api.redis.xrange(jobOutboxKey('a'), '-', '+');
    // Fields come as name, value, name, value...; the end notice carries more than these two.
    const notices = entries.map(([, fields]) =>
      Object.fromEntries(fields.flatMap((field, index) => (index % 2 === 0 ? [[field, fields[index + 1]]] : []))),
    );
    expect(notices).toContainEqual(expect.objectContaining({ id, status: 'canceled' }));
  });
});
