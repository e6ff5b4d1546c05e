/**
 * `pnpm bench:fairness`: fair share between tenants under a binding limit, every figure printed.
 * - turn: tenant B's queue wait (submit to its call's admission), one job every 250 ms, while
 *   tenant A has a 50,000-job backlog on the same model, against B alone in the same run;
 * - split: two tenants weighted 3:1 that both saturate the model, from the workers' metric of
 *   each tenant's share of the model's capacity.
 * The use of the binding limit with fairness on against off is `pnpm bench:limiter` run with
 * `BENCH_FAIRNESS=off` beside the default.
 */
import { Redis } from 'ioredis';
import { createLlmQueue, JobStore } from '@llmq/core';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { addBacklog, inParallel, percentile, runIfMain, submitJob, waitFor, type BenchRow } from './bench-kit.js';

const RPM = 1_200;
const MODEL = 'openai/gpt-4o-mini';
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 50_000);
const B_JOBS = Number(process.env.BENCH_FAIR_JOBS ?? 80);

const chat = (content: string) => ({
  type: 'chat',
  request: { model: MODEL, messages: [{ role: 'user', content }], max_tokens: 5 },
});

/** B's jobs one every 250 ms (a fifth of the limit): each one's wait from its submit to its first call, ms. */
async function waitsOfB(stack: Stack, label: string): Promise<number[]> {
  const key = stack.keys.beta ?? '';
  const waits: number[] = [];
  const pending: Array<Promise<void>> = [];
  for (let index = 0; index < B_JOBS; index++) {
    const sent = Date.now();
    pending.push(
      (async () => {
        const id = await submitJob(stack.apiUrl, key, chat(`${label} ${index}`));
        for (;;) {
          const response = await fetch(`${stack.apiUrl}/v1/jobs/${id}?wait=30`, {
            headers: { authorization: `Bearer ${key}` },
          });
          const job = (await response.json()) as { status: string; attempt_log: Array<{ started_at: number }> };
          const first = job.attempt_log[0];
          if (first) {
            waits.push(first.started_at * 1000 - sent);
            return;
          }
          if (['failed', 'canceled'].includes(job.status)) throw new Error(`B's job ${id} ended ${job.status}`);
        }
      })(),
    );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await Promise.all(pending);
  return waits.sort((left, right) => left - right);
}

async function turn(): Promise<BenchRow[]> {
  const stack = await startLlmqStack({
    workers: 2,
    workerEnv: { WORKER_CONCURRENCY: '64' },
    simulatorEnv: { SIM_RPM: String(RPM), SIM_LATENCY_MS: '50' },
    config: `limits:\n  ${MODEL}: { rpm: ${RPM} }\n`,
  });
  const redis = new Redis(stack.redisUrl);
  const queue = createLlmQueue({ connection: redis });
  try {
    await waitsOfB(stack, 'warm-up');
    const alone = await waitsOfB(stack, 'alone');
    const backlogStarted = performance.now();
    await addBacklog({ queue, store: new JobStore({ redis }), tenant: 'alpha', model: MODEL, count: BACKLOG });
    await waitFor(async () => (await queue.getWaitingCount()) === 0, 900_000, 200);
    const parkSeconds = (performance.now() - backlogStarted) / 1000;
    const behind = await waitsOfB(stack, 'behind');
    const rateLimited = (
      (await (await fetch(`${stack.simulatorUrl}/_sim/stats`)).json()) as {
        requests: { rateLimited: number };
      }
    ).requests.rateLimited;
    const row = (name: string, fraction: number): BenchRow => {
      const figure = percentile(behind, fraction);
      const baseline = percentile(alone, fraction);
      return {
        benchmark: `fair share: tenant B's queue wait ${name}, one job every 250 ms, behind tenant A's ${BACKLOG.toLocaleString('en')}-job backlog (parked in ${parkSeconds.toFixed(0)} s) under RPM ${RPM}`,
        figure: `${figure.toFixed(0)} ms`,
        baseline: `${baseline.toFixed(0)} ms (B alone)`,
        ratio: (figure / baseline).toFixed(2),
        target: '<= 1.2',
        met: figure / baseline <= 1.2,
        ...(name === 'p99' ? { note: `provider 429s over the run: ${rateLimited}` } : {}),
      };
    };
    return [row('p50', 0.5), row('p99', 0.99)];
  } finally {
    await queue.close();
    await redis.quit();
    await stack.stop();
  }
}

async function split(): Promise<BenchRow[]> {
  const stack = await startLlmqStack({
    workers: 2,
    workerEnv: { WORKER_CONCURRENCY: '64' },
    simulatorEnv: { SIM_RPM: String(RPM), SIM_LATENCY_MS: '50' },
    config: `limits:\n  ${MODEL}: { rpm: ${RPM} }\nfairness:\n  weights: { alpha: 3 }\n`,
  });
  const used = async (): Promise<Record<string, number>> => {
    const totals: Record<string, number> = { alpha: 0, beta: 0 };
    for (const url of stack.workerMetricsUrls) {
      for (const line of (await (await fetch(url)).text()).split('\n')) {
        const match = /^llmq_limiter_capacity_used_seconds_total\{model="[^"]*",tenant="(\w+)"\} (\S+)$/.exec(line);
        if (match?.[1] !== undefined) totals[match[1]] = (totals[match[1]] ?? 0) + Number(match[2]);
      }
    }
    return totals;
  };
  try {
    const perTenant = (RPM / 60) * 90;
    await Promise.all(
      ['alpha', 'beta'].map((tenant) =>
        inParallel(perTenant, 16, async (index) => {
          await submitJob(stack.apiUrl, stack.keys[tenant] ?? '', chat(`${tenant} ${index}`));
        }),
      ),
    );
    // Both saturate for the whole window: 30 s in, measured over 30 s.
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    const before = await used();
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    const after = await used();
    const alpha = (after.alpha ?? 0) - (before.alpha ?? 0);
    const beta = (after.beta ?? 0) - (before.beta ?? 0);
    const share = alpha / (alpha + beta);
    return [
      {
        benchmark: `fair share: two tenants weighted 3:1, both saturating RPM ${RPM}, 30 s window: the heavier tenant's share of the capacity`,
        figure: `${(share * 100).toFixed(1)}%`,
        baseline: '75% (3:1)',
        ratio: (share / 0.75).toFixed(3),
        target: 'within 5% of 75%',
        met: Math.abs(share - 0.75) <= 0.05,
        note: `capacity used in the window: ${(((alpha + beta) / 30) * 100).toFixed(1)}% of the model's`,
      },
    ];
  } finally {
    await stack.stop();
  }
}

/** Every fair-share figure; `BENCH_ONLY=turn|split` runs one part. */
export async function fairnessBenchmark(): Promise<BenchRow[]> {
  const only = process.env.BENCH_ONLY;
  const rows: BenchRow[] = [];
  if (!only || only === 'turn') rows.push(...(await turn()));
  if (!only || only === 'split') rows.push(...(await split()));
  return rows;
}

runIfMain(import.meta.url, fairnessBenchmark);
