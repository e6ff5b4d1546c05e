/**
 * OpenAI-compatible API: `chat.completions.create` through llmq (a job: submit, queue, limiter,
 * worker, provider call, the answer at the job's end) against the same SDK call made directly to
 * the zero-latency simulator, open loop at half the maximum load the pipeline benchmark measures.
 * The figure is the added latency, llmq's percentile minus the direct one.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startRedisServer } from '@llmq/devkit';
import { openLoop, percentile, runIfMain, startLatencyStack, type BenchRow } from './bench-kit.js';
import { llmqPipeline } from './pipeline.bench.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const TARGET = { p50Ms: 5, p99Ms: 25 };

export async function openAiCompatBenchmark(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'llmq-openai-compat-'));
  const redis = await startRedisServer({ dir });
  try {
    const maximum = await llmqPipeline(redis.url);
    // BENCH_RATE fixes the rate (calls/s), to compare two builds at the same load.
    const rate = Number(process.env.BENCH_RATE ?? 0) || Math.max(1, Math.round(maximum / 2));
    const stack = await startLatencyStack(redis.url);
    try {
      const request = (index: number, model: string) => ({
        model,
        messages: [{ role: 'user' as const, content: `latency ${index}` }],
        max_tokens: 16,
      });
      const direct = new OpenAI({ baseURL: `${stack.simulatorUrl}/v1`, apiKey: 'sim', maxRetries: 0 });
      const throughLlmq = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.keys.alpha ?? '', maxRetries: 0 });
      // Both warm (connections, JIT) before either is measured.
      await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          Promise.all([
            direct.chat.completions.create(request(index, 'gpt-4o-mini')),
            throughLlmq.chat.completions.create(request(index, 'openai/gpt-4o-mini')),
          ]),
        ),
      );
      const directLatencies = await openLoop(rate, SECONDS, (index) =>
        direct.chat.completions.create(request(index, 'gpt-4o-mini')),
      );
      const llmqLatencies = await openLoop(rate, SECONDS, (index) =>
        throughLlmq.chat.completions.create(request(index, 'openai/gpt-4o-mini')),
      );
      const at = (latencies: number[], fraction: number) => percentile(latencies, fraction);
      const added = {
        p50: at(llmqLatencies, 0.5) - at(directLatencies, 0.5),
        p99: at(llmqLatencies, 0.99) - at(directLatencies, 0.99),
      };
      return [
        {
          benchmark: `openai-compat: chat.completions.create through llmq vs the simulator directly, same SDK, open loop at ${rate} calls/s (half of ${maximum.toFixed(0)}) for ${SECONDS} s each`,
          figure: `added p50 ${added.p50.toFixed(1)} ms, p99 ${added.p99.toFixed(1)} ms (llmq p50 ${at(llmqLatencies, 0.5).toFixed(1)} ms, p99 ${at(llmqLatencies, 0.99).toFixed(1)} ms, ${llmqLatencies.length} calls)`,
          baseline: `direct p50 ${at(directLatencies, 0.5).toFixed(1)} ms, p99 ${at(directLatencies, 0.99).toFixed(1)} ms (${directLatencies.length} calls)`,
          ratio: '-',
          target: `added p50 <= ${TARGET.p50Ms} ms, p99 <= ${TARGET.p99Ms} ms`,
          met: added.p50 <= TARGET.p50Ms && added.p99 <= TARGET.p99Ms,
        },
      ];
    } finally {
      await stack.stop();
    }
  } finally {
    await redis.stop();
  }
}

runIfMain(import.meta.url, openAiCompatBenchmark);
