/** Small helpers shared by the benchmarks. */
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Queue } from 'bullmq';
import { createJobId, type JobStore, type LlmJobData } from '@llmq/core';
import { startAppProcess, startLlmqStack, type AppProcess } from '@llmq/devkit';

export async function inParallel(
  count: number,
  parallelism: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallelism, count) }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        await task(index);
      }
    }),
  );
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 600_000, pollMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('benchmark timed out');
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export function machine(): string {
  return `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export async function submitJob(apiUrl: string, key: string, body: unknown): Promise<string> {
  const response = await fetch(`${apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

export const percentile = (sorted: readonly number[], fraction: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;

/** One line of BENCHMARKS.md: a figure next to the baseline measured in the same run. */
export interface BenchRow {
  benchmark: string;
  figure: string;
  baseline: string;
  /** figure / baseline, or another named ratio. */
  ratio: string;
  target: string;
  /** Whether the target was met; undefined when there is none. */
  met?: boolean | undefined;
  note?: string;
}

export function printRows(rows: readonly BenchRow[]): void {
  for (const row of rows) {
    const verdict = row.met === undefined ? '' : row.met ? ' (met)' : ' (MISSED)';
    console.log(
      `  ${row.benchmark}: ${row.figure} | baseline ${row.baseline} | ratio ${row.ratio} | target ${row.target}${verdict}`,
    );
    if (row.note) console.log(`    ${row.note}`);
  }
}

/** Runs `main` when the file is executed directly (not imported by bench/index.ts). */
export function runIfMain(url: string, main: () => Promise<BenchRow[]>): void {
  const entry = process.argv[1];
  if (entry === undefined || url !== pathToFileURL(resolve(entry)).href) return;
  console.log(`machine: ${machine()}`);
  void main().then(printRows, (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/**
 * Sends `call` on schedule at `rate` a second for `seconds`, whatever the earlier calls are doing
 * (an open loop), and returns the latencies (ms, sorted) of the calls that did not return false.
 */
export async function openLoop(
  rate: number,
  seconds: number,
  call: (index: number) => Promise<unknown>,
): Promise<number[]> {
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const started = performance.now();
  for (let index = 0; index < rate * seconds; index += 1) {
    const wait = started + (index * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      (async () => {
        const sentAt = performance.now();
        if ((await call(index)) !== false) latencies.push(performance.now() - sentAt);
      })(),
    );
  }
  await Promise.all(pending);
  return latencies.sort((left, right) => left - right);
}

/**
 * The stack the throughput, latency and cost benchmarks measure: workers of `concurrency` each
 * (two of 64 by default), the zero-latency simulator, and a limit that never binds, so the
 * limiter is in every call's path.
 */
export const startBenchStack = (
  redisUrl: string,
  options: { workers?: number; concurrency?: number; apiEnv?: Record<string, string> } = {},
) =>
  startLlmqStack({
    redisUrl,
    ...(options.apiEnv ? { apiEnv: options.apiEnv } : {}),
    workers: options.workers ?? 2,
    workerEnv: { WORKER_CONCURRENCY: String(options.concurrency ?? 64) },
    simulatorEnv: { SIM_LATENCY_MS: '0' },
    keepLines: false,
    config: 'limits:\n  openai/gpt-4o-mini: { rpm: 100000000, tpm: 10000000000 }\n',
  });

/** The stack the latency benchmarks measure: `startBenchStack`'s defaults. */
export const startLatencyStack = (redisUrl: string) => startBenchStack(redisUrl);

/** The baseline's workers: bare BullMQ workers whose jobs do nothing (raw-bullmq-worker.ts), one process each. */
export async function startRawWorkers(
  redisUrl: string,
  options: { workers: number; concurrency: number },
): Promise<AppProcess[]> {
  const workers: AppProcess[] = [];
  for (let index = 0; index < options.workers; index += 1) {
    workers.push(
      await startAppProcess({
        name: `raw-${index}`,
        entry: new URL('./raw-bullmq-worker.ts', import.meta.url).pathname,
        env: { REDIS_URL: redisUrl, WORKER_CONCURRENCY: String(options.concurrency) },
        readyWhen: 'raw worker ready',
        keepLines: false,
      }),
    );
  }
  return workers;
}

/**
 * Puts `count` chat jobs of one tenant and model straight into the store and the queue, as the API
 * would (1,000 a round trip): a backlog in seconds, without the API's intake in the measurement.
 */
export async function addBacklog(options: {
  queue: Queue<LlmJobData>;
  store: JobStore;
  tenant: string;
  model: string;
  count: number;
}): Promise<void> {
  const { queue, store, tenant, model, count } = options;
  for (let start = 0; start < count; start += 1_000) {
    const batch: Array<{ name: string; data: LlmJobData; opts: { jobId: string; attempts: number } }> = [];
    for (let index = start; index < Math.min(count, start + 1_000); index += 1) {
      const jobId = createJobId();
      const submission = {
        type: 'chat' as const,
        request: { model, messages: [{ role: 'user' as const, content: `${tenant} ${index}` }], max_tokens: 8 },
      };
      await store.create({ tenant, jobId, submission, createdAt: Date.now() });
      batch.push({
        name: 'chat',
        data: {
          tenant,
          jobId,
          type: 'chat',
          model,
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
}
