/**
 * Ingest: POST /v1/jobs req/s and latency through the real API (auth, validation, record, enqueue)
 * against a bare Express handler parsing the same body, both as their own processes; then the
 * batch endpoint against BullMQ's own addBulk.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { appEntry, freePort, startAppProcess, startRedisServer, STACK_KEYS } from '@llmq/devkit';
import { runIfMain, type BenchRow } from './bench-kit.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 64;
const body = JSON.stringify({
  type: 'chat',
  request: {
    model: 'openai/gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a careful assistant.' },
      { role: 'user', content: 'Summarise the attached paragraph in one sentence, please.' },
    ],
    max_tokens: 200,
    temperature: 0,
  },
  metadata: { doc: '42' },
});
const headers = { authorization: `Bearer ${STACK_KEYS.alpha}`, 'content-type': 'application/json' };

interface Load {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, rate?: number): Promise<Load> {
  const result = await autocannon({
    url: `${url}/v1/jobs`,
    method: 'POST',
    headers,
    body,
    connections: CONNECTIONS,
    duration: SECONDS,
    ...(rate ? { overallRate: rate } : {}),
  });
  return {
    perSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

async function batches(apiUrl: string, redisUrl: string): Promise<{ endpoint: number; addBulk: number }> {
  const batch = JSON.stringify({ jobs: Array.from({ length: 1_000 }, () => JSON.parse(body) as unknown) });
  const rounds = 10;
  let started = performance.now();
  for (let round = 0; round < rounds; round += 1) {
    const response = await fetch(`${apiUrl}/v1/jobs/batch`, { method: 'POST', headers, body: batch });
    if (response.status !== 202) throw new Error(`batch answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  }
  const endpoint = (rounds * 1_000) / ((performance.now() - started) / 1000);
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('raw-bulk', { connection, prefix: '{bench}' });
  started = performance.now();
  for (let round = 0; round < rounds; round += 1) {
    await queue.addBulk(Array.from({ length: 1_000 }, (_, index) => ({ name: 'chat', data: { round, index } })));
  }
  const addBulk = (rounds * 1_000) / ((performance.now() - started) / 1000);
  await queue.close();
  await connection.quit();
  return { endpoint, addBulk };
}

export async function ingestBenchmark(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'llmq-ingest-'));
  const redis = await startRedisServer({ dir });
  const apiPort = await freePort();
  const barePort = await freePort();
  const api = await startAppProcess({
    name: 'api',
    entry: appEntry('api'),
    env: {
      REDIS_URL: redis.url,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      LLMQ_API_KEYS: `alpha:${STACK_KEYS.alpha}`,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    },
    readyWhen: 'api listening',
  });
  const bare = await startAppProcess({
    name: 'bare',
    entry: new URL('./bare-express.ts', import.meta.url).pathname,
    env: { PORT: String(barePort) },
    readyWhen: 'bare express listening',
  });
  try {
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await load(apiUrl); // warm-up
    const baseline = await load(`http://127.0.0.1:${barePort}`);
    const closed = await load(apiUrl);
    const open = await load(apiUrl, Math.round(closed.perSecond * 0.5));
    const bulk = await batches(apiUrl, redis.url);
    return [
      {
        benchmark: `ingest: POST /v1/jobs, ${CONNECTIONS} connections, ${SECONDS} s (autocannon)`,
        figure: `${closed.perSecond.toFixed(0)} req/s, p50 ${closed.p50} ms, p99 ${closed.p99} ms, ${closed.errors} errors`,
        baseline: `${baseline.perSecond.toFixed(0)} req/s, p50 ${baseline.p50} ms, p99 ${baseline.p99} ms (bare Express)`,
        ratio: (closed.perSecond / baseline.perSecond).toFixed(2),
        target: '>= 0.60',
        met: closed.perSecond / baseline.perSecond >= 0.6,
      },
      {
        benchmark: `ingest, open loop at half that rate (${Math.round(closed.perSecond * 0.5)} req/s offered)`,
        figure: `${open.perSecond.toFixed(0)} req/s, p50 ${open.p50} ms, p99 ${open.p99} ms, ${open.errors} errors`,
        baseline: '-',
        ratio: '-',
        target: '-',
      },
      {
        benchmark: 'ingest: POST /v1/jobs/batch, 1,000 jobs a request, 10 requests',
        figure: `${bulk.endpoint.toFixed(0)} jobs/s`,
        baseline: `${bulk.addBulk.toFixed(0)} jobs/s (raw BullMQ addBulk of 1,000)`,
        ratio: (bulk.endpoint / bulk.addBulk).toFixed(2),
        target: '-',
      },
    ];
  } finally {
    await Promise.all([api.stop(), bare.stop()]);
    await redis.stop();
  }
}

runIfMain(import.meta.url, ingestBenchmark);
