import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, startLlmqStack, startRedisServer, type RunningRedis, type Stack } from '@llmq/devkit';
import {
  ANY_METRICS_PORT,
  chaosClient,
  FAST_STALLS,
  printSummary,
  QUIET,
  simulatorCalls,
  sleep,
  submitContinuously,
  tally,
} from './chaos-support.js';

/** AOF fsyncs every second: a job accepted longer ago than this before a crash is on disk. */
const FSYNC_MARGIN_MS = 1_000;
const DOWN_MS = 2_000;

let stack: Stack | undefined;
let redis: RunningRedis | undefined;
let dir = '';

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
  if (dir !== '') await removeDir(dir);
});

describe('chaos: Redis (AOF) SIGKILLed and restarted twice while jobs are submitted and run', () => {
  it('every job accepted more than a second before a crash succeeds; the API answers 503 meanwhile', async () => {
    dir = await mkdtemp(join(tmpdir(), 'llmq-chaos-redis-'));
    redis = await startRedisServer({ dir, appendOnly: true });
    const port = redis.port;
    stack = await startLlmqStack({
      redisUrl: redis.url,
      workers: 2,
      workerEnv: { ...FAST_STALLS, ...QUIET, ...ANY_METRICS_PORT, WORKER_CONCURRENCY: '16' },
      apiEnv: QUIET,
      simulatorEnv: { SIM_LATENCY_MS: '100', SIM_JITTER_MS: '100' },
    });
    const running = stack;
    const client = chaosClient(running);

    // Batches of 20 every 50 ms, from before the first crash until after the second restart.
    const submitter = submitContinuously(client);
    const { accepted, answers } = submitter;

    const kills: number[] = [];
    for (const uptimeMs of [4_000, 5_000]) {
      await sleep(uptimeMs);
      kills.push(Date.now());
      await redis.kill();
      await sleep(DOWN_MS);
      redis = await startRedisServer({ dir, appendOnly: true, port });
    }
    await sleep(3_000);
    await submitter.stop();

    const views = await client.settleAll(
      accepted.map((job) => job.id),
      { deadlineMs: 120_000 },
    );
    const atRisk = (at: number) => kills.some((kill) => at <= kill && kill - at < FSYNC_MARGIN_MS);
    const safe = accepted.filter((job) => !atRisk(job.at));
    const risky = accepted.filter((job) => atRisk(job.at));
    const succeeded = (id: string) => views.get(id)?.status === 'succeeded';
    const safeLost = safe.filter((job) => !succeeded(job.id));
    const riskyLost = risky.filter((job) => !succeeded(job.id));
    const calls = await simulatorCalls(running);
    const failed = [...views.values()].filter((job) => job?.status === 'failed').length;
    printSummary(
      'redis-kills',
      {
        jobs: accepted.length,
        lost: safeLost.length + riskyLost.length,
        duplicated: Math.max(0, calls - accepted.length),
        failed,
      },
      `2 Redis SIGKILLs, ${DOWN_MS / 1000} s down each, AOF everysec; accepted >1 s before a crash: ${safe.length}, ` +
        `lost ${safeLost.length}; accepted within 1 s of a crash: ${risky.length}, lost ${riskyLost.length}; ` +
        `batch answers ${submitter.answersLine()}; ` +
        `statuses ${tally([...views.values()].map((job) => job?.status ?? 'unreadable'))}; provider calls ${calls}`,
    );

    expect(answers.get('503') ?? 0).toBeGreaterThan(0);
    expect([...answers.keys()].filter((status) => !['202', '503'].includes(status))).toEqual([]);
    expect(safeLost.map((job) => [job.id, views.get(job.id)?.status ?? 'unreadable'])).toEqual([]);
    expect(running.workers.every((worker) => worker.process.exitCode === null)).toBe(true);
  }, 240_000);
});
