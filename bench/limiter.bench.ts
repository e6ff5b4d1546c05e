/**
 * `pnpm bench:limiter`: the distributed limiter measured three ways, every figure printed.
 * - accuracy: 4 worker processes against a simulator enforcing RPM/TPM on a strict sliding
 *   60 s window, random token costs; provider 429s, the fullest 60 s window, steady-state use;
 * - isolation: model B's throughput while model A has a 50,000-job backlog, against B alone;
 * - cost: limiter admissions/s against a bare EVALSHA of the same script, and round trips.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from 'gpt-tokenizer';
import { Redis } from 'ioredis';
import { bucketParameters, createLlmQueue, JobStore, RateLimiter, UNLIMITED } from '@llmq/core';
import { startLlmqStack, startRedisServer } from '@llmq/devkit';
import { addBacklog, inParallel, runIfMain, submitJob, waitFor, type BenchRow } from './bench-kit.js';

const RPM = 1_200;
const TPM = 120_000;
const ACCURACY_JOBS = Number(process.env.BENCH_LIMITER_JOBS ?? 450);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 50_000);
const only = process.env.BENCH_ONLY; // accuracy | isolation | cost
/** `BENCH_FAIRNESS=off`: the accuracy run with fair share off, to compare the use. */
const FAIR = process.env.BENCH_FAIRNESS !== 'off';

const corpus = encode('The quick brown fox jumps over the lazy dog while queues fill and buckets refill. '.repeat(400));
/** A prompt of about `tokens` tokens. */
const promptOf = (tokens: number) => decode(corpus.slice(0, Math.max(1, tokens)));

interface RequestLogEntry {
  time: number;
  status: number;
  promptTokens: number;
  completionTokens: number;
}

async function accuracy(): Promise<BenchRow[]> {
  const stack = await startLlmqStack({
    workers: 4,
    workerEnv: { WORKER_CONCURRENCY: '64' },
    simulatorEnv: { SIM_RPM: String(RPM), SIM_TPM: String(TPM), SIM_LATENCY_MS: '200' },
    config: `limits:\n  openai/gpt-4o-mini: { rpm: ${RPM}, tpm: ${TPM} }\nfairness: { enabled: ${FAIR} }\n`,
  });
  try {
    const started = Date.now();
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const ids: string[] = [];
    await inParallel(ACCURACY_JOBS, 32, async () => {
      const cost = 50 + Math.floor(random() * 1_951);
      // max_tokens 5 and replies of at least 5 tokens: the cost is the prompt plus 5.
      ids.push(
        await submitJob(stack.apiUrl, stack.keys.alpha ?? '', {
          type: 'chat',
          request: {
            model: 'openai/gpt-4o-mini',
            messages: [{ role: 'user', content: promptOf(cost - 14) }],
            max_tokens: 5,
          },
        }),
      );
    });
    const redis = new Redis(stack.redisUrl);
    await waitFor(async () => (await redis.zcard('llmq:{t:alpha}:jobs:succeeded')) >= ACCURACY_JOBS, 30 * 60_000, 500);
    const failed = await redis.zcard('llmq:{t:alpha}:jobs:failed');
    await redis.quit();
    const stats = (await (await fetch(`${stack.simulatorUrl}/_sim/stats`)).json()) as {
      requests: { total: number; rateLimited: number };
      windows: Record<string, { maxRequests: number; maxTokens: number }>;
    };
    const log = (
      (await (await fetch(`${stack.simulatorUrl}/_sim/requests?since=0`)).json()) as { data: RequestLogEntry[] }
    ).data
      .filter((entry) => entry.status === 200)
      .sort((left, right) => left.time - right.time);
    const first = log[0]?.time ?? 0;
    const last = log[log.length - 1]?.time ?? 0;
    // Steady state: every full 60 s window from one minute in to the last request, in 1 s steps.
    const utilisation: number[] = [];
    for (let end = first + 60_000; end <= last; end += 1_000) {
      let tokens = 0;
      for (const entry of log)
        if (entry.time > end - 60_000 && entry.time <= end) tokens += entry.promptTokens + entry.completionTokens;
      utilisation.push(tokens / TPM);
    }
    const mean = utilisation.reduce((sum, value) => sum + value, 0) / Math.max(1, utilisation.length);
    const window = stats.windows['*'];
    const fullest = (window?.maxTokens ?? 0) / TPM;
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    return [
      {
        benchmark: `limiter accuracy: ${ACCURACY_JOBS} jobs, 4 workers, RPM ${RPM} / TPM ${TPM}, costs 50-2,000 tokens, ${seconds} s: provider 429s`,
        figure: `${stats.requests.rateLimited} (${failed} jobs failed)`,
        baseline: `${stats.requests.total} calls`,
        ratio: '-',
        target: '0',
        met: stats.requests.rateLimited === 0 && failed === 0,
      },
      {
        benchmark: 'limiter accuracy: fullest 60 s window at the provider',
        figure: `${window?.maxTokens} tokens, ${window?.maxRequests} requests`,
        baseline: `TPM ${TPM}, RPM ${RPM}`,
        ratio: `${(fullest * 100).toFixed(1)}% of TPM, ${(((window?.maxRequests ?? 0) / RPM) * 100).toFixed(1)}% of RPM`,
        target: '<= 100%',
        met: fullest <= 1 && (window?.maxRequests ?? 0) <= RPM,
      },
      {
        benchmark: `limiter accuracy: steady-state use of the binding limit (TPM), fair share ${FAIR ? 'on' : 'off'}`,
        figure: `${(mean * 100).toFixed(1)}% mean over ${utilisation.length} windows (lowest ${(Math.min(...utilisation) * 100).toFixed(1)}%)`,
        baseline: `TPM ${TPM}`,
        ratio: mean.toFixed(3),
        target: '>= 97%',
        met: mean >= 0.97,
      },
    ];
  } finally {
    await stack.stop();
  }
}

async function isolation(): Promise<BenchRow[]> {
  const stack = await startLlmqStack({
    workers: 4,
    workerEnv: { WORKER_CONCURRENCY: '64' },
    config: 'limits:\n  openai/model-a: { rpm: 600 }\n',
  });
  const redis = new Redis(stack.redisUrl);
  const queue = createLlmQueue({ connection: redis });
  const store = new JobStore({ redis });
  const bJobs = 2_000;
  const runB = async (): Promise<number> => {
    const before = await redis.zcard('llmq:{t:beta}:jobs:succeeded');
    const started = performance.now();
    await inParallel(bJobs, 64, async (index) => {
      await submitJob(stack.apiUrl, stack.keys.beta ?? '', {
        type: 'chat',
        request: { model: 'openai/model-b', messages: [{ role: 'user', content: `b ${index}` }], max_tokens: 8 },
      });
    });
    await waitFor(async () => (await redis.zcard('llmq:{t:beta}:jobs:succeeded')) >= before + bJobs, 600_000);
    return bJobs / ((performance.now() - started) / 1000);
  };
  try {
    await runB(); // warm-up: JIT, connections
    const alone = await runB();
    const backlogStarted = performance.now();
    await addBacklog({ queue, store, tenant: 'alpha', model: 'openai/model-a', count: BACKLOG });
    await waitFor(async () => (await queue.getWaitingCount()) === 0, 600_000, 200);
    const parkSeconds = (performance.now() - backlogStarted) / 1000;
    const delayed = await queue.getDelayedCount();
    const withBacklog = await runB();
    return [
      {
        benchmark: `limiter isolation: model B (no limit) while model A (RPM 600) has a ${BACKLOG.toLocaleString('en')}-job backlog (parked in ${parkSeconds.toFixed(1)} s, ${delayed} delayed)`,
        figure: `${withBacklog.toFixed(0)} jobs/s`,
        baseline: `${alone.toFixed(0)} jobs/s (B alone)`,
        ratio: (withBacklog / alone).toFixed(2),
        target: '>= 0.95',
        met: withBacklog / alone >= 0.95,
      },
    ];
  } finally {
    await queue.close();
    await redis.quit();
    await stack.stop();
  }
}

async function cost(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'llmq-bench-'));
  const server = await startRedisServer({ dir });
  const redis = new Redis(server.url);
  const limiter = new RateLimiter(redis);
  const limits = { model: bucketParameters({ rpm: 1e12, tpm: 1e15 }, 0.5), tenant: UNLIMITED };
  const seconds = 5;
  const inFlight = 64;
  const calls = async () => {
    const info = await redis.info('commandstats');
    const count = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    // Commands a client sent; what the script runs inside Redis is not a round trip.
    return count('evalsha') + count('eval') + count('script');
  };
  const run = async (operation: () => Promise<unknown>): Promise<{ perSecond: number; operations: number }> => {
    let operations = 0;
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < deadline) {
          await operation();
          operations += 1;
        }
      }),
    );
    return { perSecond: operations / seconds, operations };
  };
  try {
    await limiter.acquire({ model: 'openai/warm', tenant: 't', limits, requests: 1, tokens: 1 });
    const callsBefore = await calls();
    const admissions = await run(() =>
      limiter.acquire({ model: 'openai/bench', tenant: 't', limits, requests: 1, tokens: 100 }),
    );
    const callsAfter = await calls();
    const sha = (await redis.script(
      'LOAD',
      (await import('node:fs')).readFileSync(
        new URL('../packages/core/src/limiter/lua/limiter-acquire.lua', import.meta.url),
        'utf8',
      ),
    )) as string;
    const args = [
      '1',
      '100',
      ...[1e12 / 2, 1e12 / 60_250, 1e15 / 2, 1e15 / 60_250].map(String),
      '0',
      '0',
      '0',
      '0',
      '120000',
      '0',
      '250',
    ];
    const bare = await run(() =>
      redis.evalsha(sha, 2, 'llmq:{rl:openai/bare}:bucket', 'llmq:{rl:openai/bare}:tenant:t', ...args),
    );
    const roundTrips = (callsAfter - callsBefore) / admissions.operations;
    return [
      {
        benchmark: `limiter cost: ${inFlight} admissions in flight for ${seconds} s`,
        figure: `${admissions.perSecond.toFixed(0)} admissions/s`,
        baseline: `${bare.perSecond.toFixed(0)} /s (bare EVALSHA of the same script)`,
        ratio: (admissions.perSecond / bare.perSecond).toFixed(2),
        target: '>= 0.85',
        met: admissions.perSecond / bare.perSecond >= 0.85,
      },
      {
        benchmark: 'limiter cost: Redis round trips per admission',
        figure: roundTrips.toFixed(2),
        baseline: '-',
        ratio: '-',
        target: '1',
        met: Math.abs(roundTrips - 1) < 0.01,
      },
    ];
  } finally {
    await redis.quit();
    await server.stop();
  }
}

/** Every limiter figure; `BENCH_ONLY=accuracy|isolation|cost` runs one part. */
export async function limiterBenchmark(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  if (!only || only === 'cost') rows.push(...(await cost()));
  if (!only || only === 'isolation') rows.push(...(await isolation()));
  if (!only || only === 'accuracy') rows.push(...(await accuracy()));
  return rows;
}

runIfMain(import.meta.url, limiterBenchmark);
