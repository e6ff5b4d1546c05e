import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import {
  createLlmQueue,
  createLogger,
  createModelCatalog,
  createWebhookQueue,
  JobStore,
  llmqConfigSchema,
  WebhookDeliveryLog,
  WebhookSecretStore,
} from '@llmq/core';
import { createApp, type AppOptions } from '../app.js';
import { JobEvents } from '../job-events.js';

export const TEST_KEYS = { a: 'key-tenant-a-0123456789', b: 'key-tenant-b-0123456789' } as const;
export const TEST_ADMIN_TOKEN = 'admin-token-0123456789abcdef';

export interface TestApiOptions {
  redisUrl: string;
  /** Overrides of `config` (rate limit, metrics token...). */
  config?: Partial<AppOptions['config']>;
  admin?: AppOptions['admin'];
  draining?: () => boolean;
  /** Options of the HTTP server (timeouts). */
  serverOptions?: Parameters<typeof createServer>[0];
}

export interface TestApi {
  base: string;
  server: Server;
  redis: Redis;
  store: JobStore;
  app: ReturnType<typeof createApp>;
  /** A request as tenant `a` unless `key` says otherwise (`null`: no Authorization header). */
  call(
    path: string,
    init?: RequestInit & { key?: string | null },
  ): Promise<{ status: number; headers: Headers; body: Record<string, unknown> | null; text: string }>;
  close(): Promise<void>;
}

/** The API in-process over a real Redis, with both queues and webhooks, on a free port. */
export async function startTestApi(options: TestApiOptions): Promise<TestApi> {
  // As in main.ts: no offline queue, so a lost Redis fails commands at once.
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await once(redis, 'ready');
  const subscriber = new Redis(options.redisUrl);
  // Tests take Redis away on purpose; the clients reconnect on their own.
  for (const client of [redis, subscriber]) client.on('error', () => undefined);
  const logger = createLogger({ name: 'api', level: 'silent' });
  const queue = createLlmQueue({ connection: redis });
  const webhookQueue = createWebhookQueue({ connection: redis });
  for (const each of [queue, webhookQueue]) each.on('error', () => undefined);
  const store = new JobStore({ redis });
  const events = await JobEvents.start({ subscriber, logger });
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
    },
    ...(options.admin ? { admin: options.admin } : {}),
    ...(options.draining ? { draining: options.draining } : {}),
    config: {
      apiKeys: new Map([
        [TEST_KEYS.a, 'a'],
        [TEST_KEYS.b, 'b'],
      ]),
      catalog: createModelCatalog(llmqConfigSchema.parse({})),
      maxBodyBytes: 65_536,
      ...options.config,
    },
  });
  const server = createServer(options.serverOptions ?? {}, app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    server,
    redis,
    store,
    app,
    async call(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.key !== null) headers.set('authorization', `Bearer ${init.key ?? TEST_KEYS.a}`);
      if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
      const response = await fetch(`${base}${path}`, { ...init, headers, redirect: 'manual' });
      const text = await response.text();
      let body: Record<string, unknown> | null = null;
      if (response.headers.get('content-type')?.includes('json') && text !== '') body = JSON.parse(text);
      return { status: response.status, headers: response.headers, body, text };
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await events.close();
      await Promise.all([queue.close(), webhookQueue.close()]);
      await redis.quit().catch(() => undefined);
    },
  };
}

export const chatSubmission = (content = 'hello') => ({
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }] },
});
