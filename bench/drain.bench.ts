/**
 * Drain: how long 20,000 jobs take when the requests-per-minute limit binds, against the ideal
 * N / limit. The gap is what the limiter's safety margins and the pipeline cost.
 */
import { Redis } from 'ioredis';
import { startLlmqStack } from '@llmq/devkit';
import { runIfMain, waitFor, type BenchRow } from './bench-kit.js';

const JOBS = Number(process.env.BENCH_DRAIN_JOBS ?? 20_000);
const RPM = Number(process.env.BENCH_DRAIN_RPM ?? 12_000);

export async function drainBenchmark(): Promise<BenchRow[]> {
  const stack = await startLlmqStack({
    workers: 4,
    workerEnv: { WORKER_CONCURRENCY: '64' },
    simulatorEnv: { SIM_LATENCY_MS: '50', SIM_RPM: String(RPM) },
    keepLines: false,
    config: `limits:\n  openai/gpt-4o-mini: { rpm: ${RPM} }\n`,
  });
  const redis = new Redis(stack.redisUrl);
  try {
    const headers = { authorization: `Bearer ${stack.keys.alpha}`, 'content-type': 'application/json' };
    const started = performance.now();
    for (let start = 0; start < JOBS; start += 1_000) {
      const jobs = Array.from({ length: Math.min(1_000, JOBS - start) }, (_, index) => ({
        type: 'chat',
        request: {
          model: 'openai/gpt-4o-mini',
          messages: [{ role: 'user', content: `drain ${start + index}` }],
          max_tokens: 8,
        },
      }));
      const response = await fetch(`${stack.apiUrl}/v1/jobs/batch`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jobs }),
      });
      if (response.status !== 202) throw new Error(`batch answered ${response.status}`);
    }
    const ended = async () =>
      (await redis.zcard('llmq:{t:alpha}:jobs:succeeded')) + (await redis.zcard('llmq:{t:alpha}:jobs:failed'));
    await waitFor(async () => (await ended()) >= JOBS, 30 * 60_000, 250);
    const failed = await redis.zcard('llmq:{t:alpha}:jobs:failed');
    const seconds = (performance.now() - started) / 1000;
    const ideal = JOBS / (RPM / 60);
    const stats = (await (await fetch(`${stack.simulatorUrl}/_sim/stats`)).json()) as {
      requests: { rateLimited: number };
      windows: Record<string, { maxRequests: number }>;
    };
    return [
      {
        benchmark: `limiter drain: ${JOBS.toLocaleString('en')} jobs at RPM ${RPM.toLocaleString('en')}, 4 workers (${failed} failed, ${stats.requests.rateLimited} provider 429s, fullest window ${stats.windows['*']?.maxRequests} requests)`,
        figure: `${seconds.toFixed(1)} s`,
        baseline: `${ideal.toFixed(1)} s (N / limit)`,
        ratio: (seconds / ideal).toFixed(3),
        target: '<= 1.03',
        met: seconds / ideal <= 1.03 && failed === 0,
      },
    ];
  } finally {
    await redis.quit();
    await stack.stop();
  }
}

runIfMain(import.meta.url, drainBenchmark);
