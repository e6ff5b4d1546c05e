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
import {
  bucketParameters,
  createJobId,
  createLlmQueue,
  JobStore,
  RateLimiter,
  UNLIMITED,
  type LlmJobData,
} from '@llmq/core';
import { startLlmqStack, startRedisServer } from '@llmq/devkit';
import { inParallel, machine, submitJob, waitFor } from './bench-kit.js';

const RPM = 1_200;
const TPM = 120_000;
const ACCURACY_JOBS = Number(process.env.BENCH_LIMITER_JOBS ?? 450);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 50_000);
const only = process.env.BENCH_ONLY; // accuracy | isolation | cost

const corpus = encode('The quick brown fox jumps over the lazy dog while queues fill and buckets refill. '.repeat(400));
/** A prompt of about `tokens` tokens. */
const promptOf = (tokens: number) => decode(corpus.slice(0, Math.max(1, tokens)));

interface RequestLogEntry {
  time: number;
  status: number;
  promptTokens: number;
  completionTokens: number;
}

async function accuracy(): Promise<void> {
  const stack = await startLlmqStack({
    workers: 4,
    workerEnv: { WORKER_CONCURRENCY: '64' },
    simulatorEnv: { SIM_RPM: String(RPM), SIM_TPM: String(TPM), SIM_LATENCY_MS: '200' },
    config: `limits:\n  openai/gpt-4o-mini: { rpm: ${RPM}, tpm: ${TPM} }\n`,
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
    console.log(
      `accuracy: ${ACCURACY_JOBS} jobs, 4 worker processes, limits RPM ${RPM} / TPM ${TPM}, token costs 50-2,000`,
    );
    console.log(
      `  run time:                         ${((Date.now() - started) / 1000).toFixed(0)} s (${failed} failed)`,
    );
    console.log(`  simulator 429s:                   ${stats.requests.rateLimited} (target 0)`);
    console.log(
      `  fullest 60 s window, requests:    ${window?.maxRequests} = ${(((window?.maxRequests ?? 0) / RPM) * 100).toFixed(1)}% of RPM`,
    );
    console.log(
      `  fullest 60 s window, tokens:      ${window?.maxTokens} = ${(((window?.maxTokens ?? 0) / TPM) * 100).toFixed(1)}% of TPM (target <= 100%)`,
    );
    console.log(
      `  steady-state use of TPM:          ${(mean * 100).toFixed(1)}% over ${utilisation.length} windows (target >= 97%)`,
    );
    console.log(`  lowest steady-state window:       ${(Math.min(...utilisation) * 100).toFixed(1)}%`);
  } finally {
    await stack.stop();
  }
}

async function isolation(): Promise<void> {
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
  const addBacklog = async () => {
    for (let start = 0; start < BACKLOG; start += 1_000) {
      const batch: Array<{ name: string; data: LlmJobData; opts: { jobId: string; attempts: number } }> = [];
      for (let index = start; index < Math.min(BACKLOG, start + 1_000); index += 1) {
        const jobId = createJobId();
        const submission = {
          type: 'chat' as const,
          request: {
            model: 'openai/model-a',
            messages: [{ role: 'user' as const, content: `a ${index}` }],
            max_tokens: 8,
          },
        };
        await store.create({ tenant: 'alpha', jobId, submission, createdAt: Date.now() });
        batch.push({
          name: 'chat',
          data: {
            tenant: 'alpha',
            jobId,
            type: 'chat',
            model: 'openai/model-a',
            tokens: 20,
            attemptsPerModel: 3,
            attemptTimeoutMs: 600_000,
            deadlineAt: Date.now() + 86_400_000,
          },
          opts: { jobId, attempts: 4 },
        });
      }
      await queue.addBulk(batch);
    }
  };
  try {
    await runB(); // warm-up: JIT, connections
    const alone = await runB();
    const backlogStarted = performance.now();
    await addBacklog();
    await waitFor(async () => (await queue.getWaitingCount()) === 0, 600_000, 200);
    const parkSeconds = (performance.now() - backlogStarted) / 1000;
    const delayed = await queue.getDelayedCount();
    const withBacklog = await runB();
    console.log(
      `isolation: model B (no limit) while model A (RPM 600) has a ${BACKLOG.toLocaleString('en')}-job backlog, 4 workers`,
    );
    console.log(
      `  backlog queued and parked by the limiter in ${parkSeconds.toFixed(1)} s (${delayed} delayed, holding no worker slot)`,
    );
    console.log(`  B alone:                          ${alone.toFixed(0)} jobs/s`);
    console.log(`  B with A's backlog:               ${withBacklog.toFixed(0)} jobs/s`);
    console.log(`  ratio:                            ${(withBacklog / alone).toFixed(2)} (target >= 0.95)`);
  } finally {
    await queue.close();
    await redis.quit();
    await stack.stop();
  }
}

async function cost(): Promise<void> {
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
    console.log(`cost: ${inFlight} admissions in flight for ${seconds} s on one Redis`);
    console.log(`  limiter admissions:               ${admissions.perSecond.toFixed(0)} /s`);
    console.log(`  bare EVALSHA of the same script:  ${bare.perSecond.toFixed(0)} /s`);
    console.log(
      `  ratio:                            ${(admissions.perSecond / bare.perSecond).toFixed(2)} (target >= 0.85)`,
    );
    console.log(
      `  Redis round trips per admission:  ${((callsAfter - callsBefore) / admissions.operations).toFixed(2)} (target 1)`,
    );
  } finally {
    await redis.quit();
    await server.stop();
  }
}

console.log(`machine: ${machine()}`);
if (!only || only === 'cost') await cost();
if (!only || only === 'isolation') await isolation();
if (!only || only === 'accuracy') await accuracy();
