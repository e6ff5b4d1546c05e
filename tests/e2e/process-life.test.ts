import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLlmqStack, startRedisServer } from '@llmq/devkit';
import { llmqClient, type JobView } from '../support/llmq-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Short locks so that a killed worker's jobs are taken over in seconds, not a minute.
const fastStalls = { LLMQ_LOCK_DURATION_MS: '3000', LLMQ_STALLED_INTERVAL_MS: '1500' };
const chat = (index: number) => ({
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `job ${index}` }], max_tokens: 8 },
});

async function submitMany(client: ReturnType<typeof llmqClient>, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - start) }, async (_, offset) => {
        const { status, body } = await client.submit(chat(start + offset));
        expect(status).toBe(202);
        return String(body.id);
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

describe('process life', () => {
  it('SIGKILL one of 3 workers while 500 jobs run: every job succeeds, duplicates stay within what it held', async () => {
    const stack = await startLlmqStack({
      workers: 3,
      workerEnv: { ...fastStalls, WORKER_CONCURRENCY: '20' },
      simulatorEnv: { SIM_LATENCY_MS: '150' },
    });
    try {
      const client = llmqClient(stack);
      const ids = await submitMany(client, 500);
      await sleep(800);
      const victim = stack.workers[0];
      if (victim === undefined) throw new Error('no worker');
      victim.process.kill('SIGKILL');
      const jobs: JobView[] = await Promise.all(ids.map((id) => client.waitForEnd(id, 90_000)));
      expect(jobs.filter((job) => job.status !== 'succeeded')).toEqual([]);
      const stats = await client.stats();
      const duplicates = stats.requests.total - 500;
      const retaken = jobs.filter((job) => job.attempts > 1).length;
      expect(duplicates).toBeGreaterThanOrEqual(0);
      // Only calls the killed worker had in flight can have been made twice.
      expect(duplicates).toBeLessThanOrEqual(20);
      expect(retaken).toBeLessThanOrEqual(20);
    } finally {
      await stack.stop();
    }
  }, 120_000);

  it('SIGTERM drains: calls in flight finish, nothing stalls or runs twice, the worker exits 0', async () => {
    const stack = await startLlmqStack({
      workers: 2,
      workerEnv: { ...fastStalls, WORKER_CONCURRENCY: '20' },
      simulatorEnv: { SIM_LATENCY_MS: '1500' },
    });
    try {
      const client = llmqClient(stack);
      const ids = await submitMany(client, 20);
      for (let tries = 0; tries < 100 && (await client.stats()).inFlight.current < 20; tries += 1) await sleep(50);
      expect((await client.stats()).inFlight.current).toBe(20);
      const leaving = stack.workers[0];
      if (leaving === undefined) throw new Error('no worker');
      const exitCode = await leaving.stop('SIGTERM');
      expect(exitCode).toBe(0);
      const jobs = await Promise.all(ids.map((id) => client.waitForEnd(id, 30_000)));
      expect(jobs.map((job) => job.status)).toEqual(ids.map(() => 'succeeded'));
      expect(jobs.every((job) => job.attempts === 1)).toBe(true);
      expect((await client.stats()).requests.total).toBe(20);
      expect(leaving.lines.some((line) => line.includes('"drained":true'))).toBe(true);
    } finally {
      await stack.stop();
    }
  }, 60_000);

  it('Redis with AOF killed and restarted: accepted jobs survive, the API answers 503 meanwhile, workers resume', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'llmq-aof-'));
    let redis = await startRedisServer({ dir, appendOnly: true });
    const stack = await startLlmqStack({
      redisUrl: redis.url,
      workers: 2,
      workerEnv: { ...fastStalls, WORKER_CONCURRENCY: '4' },
      simulatorEnv: { SIM_LATENCY_MS: '100' },
    });
    try {
      const client = llmqClient(stack);
      const ids = await submitMany(client, 100);
      // Past the everysec fsync: every job accepted so far is on disk.
      await sleep(1_500);
      await redis.kill();

      for (const attempt of [() => client.submit(chat(0)), () => client.get(ids[0] ?? '')]) {
        const started = Date.now();
        const answer = await attempt();
        expect(answer.status).toBe(503);
        expect(answer.body).toMatchObject({ error: { type: 'unavailable' } });
        expect(Date.now() - started).toBeLessThan(1_000);
      }

      await sleep(1_000);
      redis = await startRedisServer({ dir, appendOnly: true, port: redis.port });
      const jobs = await Promise.all(ids.map((id) => client.waitForEnd(id, 60_000)));
      expect(jobs.filter((job) => job.status !== 'succeeded').map((job) => [job.id, job.status])).toEqual([]);
      expect(stack.workers.every((worker) => worker.process.exitCode === null)).toBe(true);
    } finally {
      await stack.stop();
      await redis.stop();
    }
  }, 120_000);
});
