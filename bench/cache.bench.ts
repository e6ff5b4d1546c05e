/**
 * `pnpm bench:cache`: semantic-cache lookup time on a stock redis-server (vectors as packed
 * float32 in a hash, compared in the worker) at 1k and 10k entries in one scope, at 256 and 1536
 * dimensions, against an exact-cache GET on the same server. Each lookup is what a worker does
 * for a semantic job: one MULTI (live ids + all vectors), the comparison, one HGET of the answer.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ExactCache, normaliseVector, RedisSemanticIndex, type CachedChatAnswer } from '@llmq/core';
import { startRedisServer } from '@llmq/devkit';
import { inParallel, percentile, runIfMain, type BenchRow } from './bench-kit.js';

const LOOKUPS = Number(process.env.BENCH_CACHE_LOOKUPS ?? 40);
const SIZES = [1_000, 10_000];
const DIMENSIONS = [256, 1_536];
/** What one lookup should stay under at the default bound (1,000 entries) and the recommended dimensions. */
const TARGET_MS = 25;
const RECOMMENDED_DIMENSIONS = 256;

const answer: CachedChatAnswer = {
  result: {
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 0,
    model: 'openai/gpt-4o-mini',
    provider: 'openai',
    choices: [
      { index: 0, message: { role: 'assistant', content: 'A cached answer of a few words.' }, finish_reason: 'stop' },
    ],
    usage: { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 },
  },
  usage: { input_tokens: 20, output_tokens: 8 },
  model: 'openai/gpt-4o-mini',
  jobId: 'job_bench',
  storedAt: 0,
};

let seed = 7;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const randomUnitVector = (dimensions: number) =>
  normaliseVector(Array.from({ length: dimensions }, () => random() * 2 - 1));

async function timed(times: number, action: () => Promise<unknown>): Promise<number[]> {
  const durations: number[] = [];
  for (let round = 0; round < times; round += 1) {
    const started = process.hrtime.bigint();
    await action();
    durations.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return durations.sort((left, right) => left - right);
}

async function main(): Promise<BenchRow[]> {
  const redisServer = await startRedisServer({ dir: await mkdtemp(join(tmpdir(), 'llmq-bench-cache-')) });
  const redis = new Redis(redisServer.url);
  const rows: BenchRow[] = [];
  try {
    const exact = new ExactCache(redis);
    await exact.setChatAnswer('llmq:{t:bench}:cache:chat:x', answer, 600_000);
    const exactTimes = await timed(LOOKUPS * 5, () => exact.getChatAnswer('llmq:{t:bench}:cache:chat:x'));
    const exactP50 = percentile(exactTimes, 0.5);
    const index = new RedisSemanticIndex(redis);
    for (const dimensions of DIMENSIONS) {
      for (const size of SIZES) {
        const scope = `bench-${dimensions}-${size}`;
        await inParallel(size, 64, (entry) =>
          index.store({
            tenant: 'bench',
            scope,
            id: `entry-${entry}`,
            vector: randomUnitVector(dimensions),
            answer,
            ttlMs: 3_600_000,
            maxEntries: size,
          }),
        );
        const times = await timed(LOOKUPS, () =>
          index.lookup({ tenant: 'bench', scope, vector: randomUnitVector(dimensions), threshold: 0.99 }),
        );
        const p50 = percentile(times, 0.5);
        const p95 = percentile(times, 0.95);
        const targeted = size <= 1_000 && dimensions <= RECOMMENDED_DIMENSIONS;
        rows.push({
          benchmark: `semantic lookup, ${size.toLocaleString('en')} entries x ${dimensions} dimensions`,
          figure: `p50 ${p50.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms (${((size * dimensions * 4) / 2 ** 20).toFixed(1)} MiB read)`,
          baseline: `exact GET p50 ${exactP50.toFixed(3)} ms`,
          ratio: `${(p50 / exactP50).toFixed(0)}x`,
          target: targeted ? `p95 < ${TARGET_MS} ms` : 'none',
          met: targeted ? p95 < TARGET_MS : undefined,
          ...(dimensions > RECOMMENDED_DIMENSIONS
            ? {
                note: `lookups read every vector: cache.semantic.dimensions ${RECOMMENDED_DIMENSIONS} keeps them small`,
              }
            : {}),
        });
        await redis.del(
          `llmq:{t:bench}:cache:sem:${scope}:vectors`,
          `llmq:{t:bench}:cache:sem:${scope}:answers`,
          `llmq:{t:bench}:cache:sem:${scope}:expiries`,
        );
      }
    }
  } finally {
    await redis.quit();
    await redisServer.stop();
  }
  return rows;
}

runIfMain(import.meta.url, main);
