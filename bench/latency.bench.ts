/**
 * Latency: submit to result visible (the `?wait` long poll returns the ended job), at half the
 * maximum load the pipeline benchmark measured, against a zero-latency simulator.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer } from '@llmq/devkit';
import { openLoop, percentile, runIfMain, startLatencyStack, type BenchRow } from './bench-kit.js';
import { llmqPipeline } from './pipeline.bench.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);

export async function latencyBenchmark(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'llmq-latency-'));
  const redis = await startRedisServer({ dir });
  try {
    const maximum = await llmqPipeline(redis.url);
    const rate = Math.max(1, Math.round(maximum / 2));
    const stack = await startLatencyStack(redis.url);
    try {
      const headers = { authorization: `Bearer ${stack.keys.alpha}`, 'content-type': 'application/json' };
      // Open loop: each job is sent on schedule, whatever the earlier ones are doing.
      const latencies = await openLoop(rate, SECONDS, async (index) => {
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
        return ended.status === 'succeeded';
      });
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
