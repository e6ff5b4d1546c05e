/**
 * Pipeline: end-to-end jobs/s through the API, two worker processes (with the limiter in the
 * path: a limit that never binds) and a zero-latency simulator, against raw BullMQ no-op jobs/s on
 * the same Redis with the same worker processes, producers and concurrency.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startRedisServer } from '@llmq/devkit';
import { inParallel, runIfMain, startBenchStack, startRawWorkers, waitFor, type BenchRow } from './bench-kit.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 4000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const PRODUCERS = Number(process.env.BENCH_PRODUCERS ?? 64);

async function rawBullmq(redisUrl: string): Promise<number> {
  const workers = await startRawWorkers(redisUrl, { workers: WORKERS, concurrency: CONCURRENCY });
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('raw-baseline', { connection, prefix: '{bench}' });
  const started = performance.now();
  await inParallel(JOBS, PRODUCERS, async (index) => {
    await queue.add('noop', { index });
  });
  await waitFor(async () => (await queue.getCompletedCount()) >= JOBS);
  const seconds = (performance.now() - started) / 1000;
  await queue.obliterate({ force: true });
  await queue.close();
  await connection.quit();
  await Promise.all(workers.map((worker) => worker.stop()));
  return JOBS / seconds;
}

/** Jobs/s through the whole of llmq; also used by the latency benchmark to size its load. */
export async function llmqPipeline(redisUrl: string): Promise<number> {
  const stack = await startBenchStack(redisUrl, { workers: WORKERS, concurrency: CONCURRENCY });
  const redis = new Redis(redisUrl);
  const authorization = `Bearer ${stack.keys.alpha}`;
  const before = await redis.zcard('llmq:{t:alpha}:jobs:succeeded');
  const started = performance.now();
  await inParallel(JOBS, PRODUCERS, async (index) => {
    const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'chat',
        request: {
          model: 'openai/gpt-4o-mini',
          messages: [{ role: 'user', content: `bench ${index}` }],
          max_tokens: 16,
        },
      }),
    });
    if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  });
  await waitFor(async () => (await redis.zcard('llmq:{t:alpha}:jobs:succeeded')) >= before + JOBS);
  const seconds = (performance.now() - started) / 1000;
  const failed = await redis.zcard('llmq:{t:alpha}:jobs:failed');
  await redis.quit();
  await stack.stop();
  if (failed > 0) throw new Error(`${failed} jobs failed`);
  return JOBS / seconds;
}

export async function pipelineBenchmark(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'llmq-bench-'));
  const redis = await startRedisServer({ dir });
  try {
    const raw = await rawBullmq(redis.url);
    const pipeline = await llmqPipeline(redis.url);
    return [
      {
        benchmark: `pipeline: ${JOBS} chat jobs, ${WORKERS} workers x ${CONCURRENCY}, ${PRODUCERS} producers, limiter on`,
        figure: `${pipeline.toFixed(0)} jobs/s (API + workers + limiter + simulator)`,
        baseline: `${raw.toFixed(0)} jobs/s (raw BullMQ no-op)`,
        ratio: (pipeline / raw).toFixed(2),
        target: '>= 0.40',
        met: pipeline / raw >= 0.4,
      },
    ];
  } finally {
    await redis.stop();
  }
}

runIfMain(import.meta.url, pipelineBenchmark);
