/**
 * Latency: submit to result visible (the `?wait` long poll returns the ended job), at half the
 * maximum load the pipeline benchmark measured, against a zero-latency simulator.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLlmqStack, startRedisServer } from '@llmq/devkit';
import { percentile, runIfMain, type BenchRow } from './bench-kit.js';
import { llmqPipeline } from './pipeline.bench.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);

export async function latencyBenchmark(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'llmq-latency-'));
  const redis = await startRedisServer({ dir });
  try {
    const maximum = await llmqPipeline(redis.url);
    const rate = Math.max(1, Math.round(maximum / 2));
    const stack = await startLlmqStack({
      redisUrl: redis.url,
      workers: 2,
      workerEnv: { WORKER_CONCURRENCY: '64' },
      simulatorEnv: { SIM_LATENCY_MS: '0' },
      keepLines: false,
      config: 'limits:\n  openai/gpt-4o-mini: { rpm: 100000000, tpm: 10000000000 }\n',
    });
    try {
      const headers = { authorization: `Bearer ${stack.keys.alpha}`, 'content-type': 'application/json' };
      const latencies: number[] = [];
      const pending: Array<Promise<void>> = [];
      const started = performance.now();
      for (let index = 0; index < rate * SECONDS; index += 1) {
        // Open loop: each job is sent on schedule, whatever the earlier ones are doing.
        const due = started + (index * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        pending.push(
          (async () => {
            const submittedAt = performance.now();
            const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
              method: 'POST',
              headers,
              body: JSON.stringify({
                type: 'chat',
                request: {
                  model: 'openai/gpt-4o-mini',
                  messages: [{ role: 'user', content: `latency ${index}` }],
                  max_tokens: 16,
                },
              }),
            });
            const { id } = (await response.json()) as { id: string };
            const ended = (await (await fetch(`${stack.apiUrl}/v1/jobs/${id}?wait=30`, { headers })).json()) as {
              status: string;
            };
            if (ended.status === 'succeeded') latencies.push(performance.now() - submittedAt);
          })(),
        );
      }
      await Promise.all(pending);
      latencies.sort((left, right) => left - right);
      return [
        {
          benchmark: `latency: submit to result visible, open loop at ${rate} jobs/s (half of ${maximum.toFixed(0)}) for ${SECONDS} s`,
          figure: `p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p99 ${percentile(latencies, 0.99).toFixed(0)} ms (${latencies.length} jobs)`,
          baseline: '-',
          ratio: '-',
          target: '-',
        },
      ];
    } finally {
      await stack.stop();
    }
  } finally {
    await redis.stop();
  }
}

runIfMain(import.meta.url, latencyBenchmark);
