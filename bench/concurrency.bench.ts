/**
 * Concurrency: one worker process holding 10,000 provider calls at once against a simulator that
 * answers after 60 s: are they all in flight together, what each costs in RSS, and how late the
 * event loop runs meanwhile.
 */
import { readFile } from 'node:fs/promises';
import { startLlmqStack } from '@llmq/devkit';
import { runIfMain, waitFor, type BenchRow } from './bench-kit.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 10_000);

async function rssBytes(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid ?? 0}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

export async function concurrencyBenchmark(): Promise<BenchRow[]> {
  const stack = await startLlmqStack({
    workers: 1,
    workerEnv: { WORKER_CONCURRENCY: String(CALLS), LLMQ_STATS_INTERVAL_MS: '2000' },
    simulatorEnv: { SIM_LATENCY_MS: '60000' },
  });
  try {
    const worker = stack.workers[0];
    const idle = await rssBytes(worker?.process.pid);
    const headers = { authorization: `Bearer ${stack.keys.alpha}`, 'content-type': 'application/json' };
    for (let start = 0; start < CALLS; start += 1_000) {
      const jobs = Array.from({ length: Math.min(1_000, CALLS - start) }, (_, index) => ({
        type: 'chat',
        request: {
          model: 'openai/gpt-4o-mini',
          messages: [{ role: 'user', content: `long ${start + index}` }],
          max_tokens: 16,
        },
      }));
      const response = await fetch(`${stack.apiUrl}/v1/jobs/batch`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jobs }),
      });
      if (response.status !== 202) throw new Error(`batch answered ${response.status}`);
    }
    const started = performance.now();
    let inFlight = 0;
    await waitFor(
      async () => {
        const stats = (await (await fetch(`${stack.simulatorUrl}/_sim/stats`)).json()) as {
          inFlight: { current: number };
        };
        inFlight = stats.inFlight.current;
        return inFlight >= CALLS;
      },
      55_000,
      250,
    ).catch(() => undefined);
    const reachedIn = (performance.now() - started) / 1000;
    // Let the stats line cover a stretch with every call open.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    const peak = await rssBytes(worker?.process.pid);
    const statsLine = [...(worker?.lines ?? [])].reverse().find((line) => line.includes('worker stats'));
    const stats = JSON.parse(statsLine ?? '{}') as { eventLoopDelayP99Ms?: number; inFlight?: number };
    const perCall = (peak - idle) / Math.max(1, inFlight);
    return [
      {
        benchmark: `concurrency: one worker, ${CALLS.toLocaleString('en')} calls to a simulator answering after 60 s`,
        figure: `${inFlight.toLocaleString('en')} in flight at once (after ${reachedIn.toFixed(1)} s), ${(perCall / 1024).toFixed(1)} KiB RSS per call, event-loop delay p99 ${stats.eventLoopDelayP99Ms ?? '?'} ms`,
        baseline: `${(idle / 2 ** 20).toFixed(0)} MiB RSS idle, ${(peak / 2 ** 20).toFixed(0)} MiB with all calls open`,
        ratio: `${((inFlight / CALLS) * 100).toFixed(1)}% in flight`,
        target: 'all in flight',
        met: inFlight >= CALLS,
      },
    ];
  } finally {
    await stack.stop();
  }
}

runIfMain(import.meta.url, concurrencyBenchmark);
