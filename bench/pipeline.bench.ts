/**
 * `pnpm bench`: end-to-end jobs/s through the API, two worker processes and a zero-latency
 * simulator, against raw BullMQ no-op jobs/s on the same Redis with the same number of worker
 * processes, producers and concurrency. Prints every figure.
 */
import { join } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startAppProcess, startLlmqStack, startRedisServer, type AppProcess } from '@llmq/devkit';
import { inParallel, machine, waitFor } from './bench-kit.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 4000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const PRODUCERS = Number(process.env.BENCH_PRODUCERS ?? 64);

async function rawBullmq(redisUrl: string): Promise<number> {
  const workers: AppProcess[] = [];
  for (let index = 0; index < WORKERS; index += 1) {
    workers.push(
      await startAppProcess({
        name: `raw-${index}`,
        entry: new URL('./raw-bullmq-worker.ts', import.meta.url).pathname,
        env: { REDIS_URL: redisUrl, WORKER_CONCURRENCY: String(CONCURRENCY) },
        readyWhen: 'raw worker ready',
      }),
    );
  }
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

async function llmqPipeline(redisUrl: string): Promise<number> {
  const stack = await startLlmqStack({
    redisUrl,
    workers: WORKERS,
    workerEnv: { WORKER_CONCURRENCY: String(CONCURRENCY) },
    simulatorEnv: { SIM_LATENCY_MS: '0' },
  });
  const redis = new Redis(redisUrl);
  const authorization = `Bearer ${stack.keys.alpha}`;
  const body = (index: number) =>
    JSON.stringify({
      type: 'chat',
      request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `bench ${index}` }], max_tokens: 16 },
    });
  const started = performance.now();
  await inParallel(JOBS, PRODUCERS, async (index) => {
    const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: body(index),
    });
    if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  });
  await waitFor(async () => (await redis.zcard('llmq:{t:alpha}:jobs:succeeded')) >= JOBS);
  const seconds = (performance.now() - started) / 1000;
  const failed = await redis.zcard('llmq:{t:alpha}:jobs:failed');
  if (failed > 0) throw new Error(`${failed} jobs failed`);
  await redis.quit();
  await stack.stop();
  return JOBS / seconds;
}

const dir = await mkdtemp(join(tmpdir(), 'llmq-bench-'));
const redis = await startRedisServer({ dir });
console.log(`machine: ${machine()}`);
console.log(
  `jobs: ${JOBS}, worker processes: ${WORKERS}, concurrency per worker: ${CONCURRENCY}, producers: ${PRODUCERS}`,
);
try {
  const raw = await rawBullmq(redis.url);
  console.log(`raw BullMQ no-op:            ${raw.toFixed(0)} jobs/s`);
  const pipeline = await llmqPipeline(redis.url);
  console.log(`llmq end to end (simulator): ${pipeline.toFixed(0)} jobs/s`);
  console.log(`ratio llmq / raw:            ${(pipeline / raw).toFixed(2)}`);
} finally {
  await redis.stop();
}
