import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appEntry,
  freePort,
  removeDir,
  startAppProcess,
  startRedisServer,
  STACK_KEYS,
  type AppProcess,
  type RunningRedis,
} from '@llmq/devkit';
import { readEvents } from '../support/sse-client.js';

let dir: string;
let redis: RunningRedis;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmq-ops-'));
  redis = await startRedisServer({ dir, appendOnly: true });
});

afterAll(async () => {
  await redis?.stop();
  await removeDir(dir);
});

const authorization = `Bearer ${STACK_KEYS.alpha}`;

async function startApi(env: Record<string, string> = {}): Promise<{ api: AppProcess; url: string }> {
  const port = await freePort();
  const api = await startAppProcess({
    name: 'api',
    entry: appEntry('api'),
    env: {
      REDIS_URL: redis.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LLMQ_API_KEYS: `alpha:${STACK_KEYS.alpha}`,
      ...env,
    },
    readyWhen: 'api listening',
  });
  return { api, url: `http://127.0.0.1:${port}` };
}

/** Starts an app expected to refuse to start; returns what it printed. */
async function refusal(app: 'api' | 'worker', env: Record<string, string> = {}): Promise<string> {
  const started = startAppProcess({
    name: app,
    entry: appEntry(app),
    env: {
      REDIS_URL: redis.url,
      LLMQ_API_KEYS: `alpha:${STACK_KEYS.alpha}`,
      PORT: '0',
      WORKER_METRICS_PORT: '0',
      ...env,
    },
    readyWhen: app === 'api' ? 'api listening' : 'worker ready',
  });
  const error = await started.then(
    async (process) => {
      await process.stop();
      throw new Error(`${app} started`);
    },
    (failure: unknown) => (failure instanceof Error ? failure.message : String(failure)),
  );
  return error;
}

describe('start-up checks of Redis', () => {
  it('log the persistence settings in one line', async () => {
    const { api } = await startApi();
    await api.stop();
    const line = api.lines.find((text) => text.includes('redis persistence'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      msg: 'redis persistence: AOF on (appendfsync everysec), RDB off',
      maxmemoryPolicy: 'noeviction',
    });
  });

  it('the API and the worker refuse a Redis that may evict keys, unless told to run anyway', async () => {
    const admin = new Redis(redis.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      for (const app of ['api', 'worker'] as const) {
        expect(await refusal(app)).toContain(
          'Redis maxmemory-policy is "allkeys-lru": under memory pressure Redis would silently delete queued jobs and job records',
        );
      }
      const { api } = await startApi({ LLMQ_ALLOW_EVICTION: 'true' });
      await api.stop();
      expect(api.lines.some((line) => line.includes('running anyway because LLMQ_ALLOW_EVICTION=true'))).toBe(true);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.quit();
    }
  });
});

describe('graceful shutdown of the API', () => {
  it('on SIGTERM: ends SSE streams, finishes requests in flight, turns new ones away, exits 0', async () => {
    const { api, url } = await startApi();
    const created = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'chat',
        request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      }),
    });
    const { id } = (await created.json()) as { id: string };
    // No worker runs: the job stays queued, so both requests stay open until shutdown.
    const stream = readEvents(`${url}/v1/jobs/${id}/events`, { authorization });
    const waiting = fetch(`${url}/v1/jobs/${id}?wait=2`, { headers: { authorization } });
    await new Promise((resolve) => setTimeout(resolve, 300));

    const started = Date.now();
    const exit = api.stop('SIGTERM');
    const streamed = await stream;
    expect(streamed.events.map((event) => event.event)).toEqual(['status']);
    expect(Date.now() - started).toBeLessThan(1_500);
    const waited = await waiting;
    expect(waited.status).toBe(200);
    expect(((await waited.json()) as { status: string }).status).toBe('queued');
    expect(await exit).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    const drained = api.lines
      .map((line) => JSON.parse(line) as { msg?: string })
      .find((line) => line.msg === 'api drained');
    expect(drained).toMatchObject({ drained: true, closedStreams: 1 });
  });
});
