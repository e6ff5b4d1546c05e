import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startRedisServer, type RunningRedis } from '@llmq/devkit';
import { startTestApi, type TestApi } from '../__fixtures__/test-api.js';

// A Redis of this file's own, so the test can take it away and bring it back on the same port.
let dir: string;
let redis: RunningRedis;
let api: TestApi;
let draining = false;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmq-readyz-'));
  redis = await startRedisServer({ dir });
  api = await startTestApi({ redisUrl: redis.url, draining: () => draining });
});

afterAll(async () => {
  await api?.close();
  await redis?.stop();
  await removeDir(dir);
});

const ready = () => api.call('/readyz', { key: null });

describe('health and readiness', () => {
  it('/healthz and /readyz answer 200 while Redis is there', async () => {
    expect(await api.call('/healthz', { key: null })).toMatchObject({ status: 200, body: { status: 'ok' } });
    const answer = await ready();
    expect(answer).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('/readyz is 503 with the reason while Redis is gone, 200 once it is back; /healthz stays 200', async () => {
    await redis.kill();
    await expect.poll(async () => (await ready()).status, { timeout: 5_000, interval: 50 }).toBe(503);
    const down = await ready();
    expect(down.body).toMatchObject({ error: { type: 'unavailable' } });
    expect(String((down.body?.error as { message: string }).message)).toMatch(/^redis is unreachable: /);
    expect((await api.call('/healthz', { key: null })).status).toBe(200);

    redis = await startRedisServer({ dir, port: redis.port });
    await expect.poll(async () => (await ready()).status, { timeout: 10_000, interval: 100 }).toBe(200);
  });

  it('/readyz and POST /v1/jobs answer 503 with Retry-After while Redis is full, and recover after', async () => {
    const admin = new Redis(redis.url);
    try {
      await admin.config('SET', 'maxmemory', '1');
      const full = await ready();
      expect(full.status).toBe(503);
      expect(String((full.body?.error as { message: string }).message)).toMatch(/^redis refuses writes: OOM/);
      const submit = await api.call('/v1/jobs', {
        method: 'POST',
        body: JSON.stringify({
          type: 'chat',
          request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
        }),
      });
      expect(submit.status).toBe(503);
      expect(submit.headers.get('retry-after')).toBe('1');
      expect(submit.body).toMatchObject({ error: { type: 'unavailable' } });
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      await admin.quit();
    }
    expect((await ready()).status).toBe(200);
  });

  it('/readyz is 503 while the process is shutting down', async () => {
    draining = true;
    try {
      expect(await ready()).toMatchObject({
        status: 503,
        body: { error: { type: 'unavailable', message: 'shutting down' } },
      });
    } finally {
      draining = false;
    }
  });
});
