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
import { startLlmqStack, startRedisServer } from '@llmq/devkit';
import { percentile, runIfMain, type BenchRow } from './bench-kit.js';
import { llmqPipeline } from './pipeline.bench.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const TARGET = { p50Ms: 5, p99Ms: 25 };

/** Latencies (ms, sorted) of `call` sent on schedule at `rate` a second for SECONDS, whatever the earlier calls are doing. */
async function openLoop(rate: number, call: (index: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const started = performance.now();
  for (let index = 0; index < rate * SECONDS; index += 1) {
    const wait = started + (index * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      (async () => {
        const sentAt = performance.now();
        await call(index);
        latencies.push(performance.now() - sentAt);
      })(),
    );
  }
  await Promise.all(pending);
  return latencies.sort((left, right) => left - right);
}

export async function openAiCompatBenchmark(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'llmq-openai-compat-'));
  const redis = await startRedisServer({ dir });
  try {
    const maximum = await llmqPipeline(redis.url);
    // BENCH_RATE fixes the rate (calls/s), to compare two builds at the same load.
    const rate = Number(process.env.BENCH_RATE ?? 0) || Math.max(1, Math.round(maximum / 2));
    const stack = await startLlmqStack({
      redisUrl: redis.url,
      workers: 2,
      workerEnv: { WORKER_CONCURRENCY: '64' },
      simulatorEnv: { SIM_LATENCY_MS: '0' },
      keepLines: false,
      config: 'limits:\n  openai/gpt-4o-mini: { rpm: 100000000, tpm: 10000000000 }\n',
    });
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
      const directLatencies = await openLoop(rate, (index) =>
        direct.chat.completions.create(request(index, 'gpt-4o-mini')),
      );
      const llmqLatencies = await openLoop(rate, (index) =>
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
