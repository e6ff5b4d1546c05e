import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startRedisServer, type RunningRedis } from '@llmq/devkit';
import { startTestApi, TEST_ADMIN_TOKEN, type TestApi } from '../__fixtures__/test-api.js';

// A Redis of this file's own, so the test can take it away.
let dir: string;
let redis: RunningRedis;
let api: TestApi;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmq-admin-redis-'));
  redis = await startRedisServer({ dir });
  api = await startTestApi({ redisUrl: redis.url, admin: { token: TEST_ADMIN_TOKEN } });
});

afterAll(async () => {
  await api?.close();
  await redis?.stop();
  await removeDir(dir);
});

const board = (path: string) => api.call(`/admin/queues/api/queues${path}`, { key: TEST_ADMIN_TOKEN });

describe('the dashboard without Redis', () => {
  it("answers 503 with Retry-After in the one error shape, not bull-board's 500", async () => {
    expect((await board('')).status).toBe(200);
    await redis.kill();
    for (const path of ['', '/llm-jobs/job_x']) {
      await expect.poll(async () => (await board(path)).status, { timeout: 5_000, interval: 50 }).toBe(503);
      const answer = await board(path);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.body).toEqual({
        error: { type: 'unavailable', message: 'the job store is unreachable or refusing writes; retry shortly' },
      });
    }
  });
});
