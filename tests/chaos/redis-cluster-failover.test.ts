import { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import {
  ANY_METRICS_PORT,
  chaosClient,
  FAST_STALLS,
  printSummary,
  QUIET,
  simulatorCalls,
  sleep,
  submitContinuously,
  tally,
} from './chaos-support.js';

/** AOF fsyncs every second, and a replica lags its master: a job accepted this close to the kill may be lost. */
const LOSS_WINDOW_MS = 1_000;

let stack: Stack | undefined;

afterAll(async () => {
  await stack?.stop();
});

/** The port of the master serving the slot of `key`, read from the cluster itself. */
async function masterOf(seeds: string[], key: string): Promise<number> {
  const client = new Cluster(seeds.map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })));
  try {
    const slot = Number(await client.cluster('KEYSLOT', key));
    const ranges = await client.cluster('SLOTS');
    const owner = ranges.find(([start, end]) => slot >= start && slot <= end)?.[2];
    if (!owner) throw new Error(`no master serves slot ${slot}`);
    return owner[1];
  } finally {
    client.disconnect();
  }
}

describe('chaos: a Redis Cluster master SIGKILLed while jobs are submitted and run', () => {
  it('its replica takes over; every job accepted more than a second before the kill succeeds; the API answers 503, never 500', async () => {
    stack = await startLlmqStack({
      redisCluster: true,
      workers: 2,
      workerEnv: {
        ...FAST_STALLS,
        ...QUIET,
        ...ANY_METRICS_PORT,
        WORKER_CONCURRENCY: '16',
        // A queue entry lost with the master's last writes is found and queued again soon.
        LLMQ_RECONCILE_INTERVAL_MS: '3000',
        LLMQ_RECONCILE_GRACE_MS: '3000',
      },
      apiEnv: QUIET,
      simulatorEnv: { SIM_LATENCY_MS: '100', SIM_JITTER_MS: '100' },
    });
    const running = stack;
    const cluster = running.cluster;
    if (!cluster) throw new Error('the stack runs on a single node');
    const client = chaosClient(running);

    const submitter = submitContinuously(client);
    const { accepted, answers } = submitter;

    // The master of the queues' slot: the hardest one to lose.
    const victim = await masterOf(cluster.seeds, '{llmq}');
    await sleep(4_000);
    const killedAt = Date.now();
    await cluster.killNode(victim, 'SIGKILL');
    await sleep(12_000);
    await submitter.stop();
    const masters = await cluster.masters();

    const views = await client.settleAll(
      accepted.map((job) => job.id),
      { deadlineMs: 120_000 },
    );
    const atRisk = (at: number) => at <= killedAt && killedAt - at < LOSS_WINDOW_MS;
    const safe = accepted.filter((job) => !atRisk(job.at));
    const risky = accepted.filter((job) => atRisk(job.at));
    const succeeded = (id: string) => views.get(id)?.status === 'succeeded';
    const safeLost = safe.filter((job) => !succeeded(job.id));
    const riskyLost = risky.filter((job) => !succeeded(job.id));
    const calls = await simulatorCalls(running);
    printSummary(
      'redis-cluster-failover',
      {
        jobs: accepted.length,
        lost: safeLost.length + riskyLost.length,
        duplicated: Math.max(0, calls - accepted.length),
        failed: [...views.values()].filter((job) => job?.status === 'failed').length,
      },
      `master of {llmq} (port ${victim}) SIGKILLed, masters after: ${masters.map((master) => master.port).join(', ')}; ` +
        `accepted >1 s before the kill or after it: ${safe.length}, lost ${safeLost.length}; within 1 s before: ${risky.length}, lost ${riskyLost.length}; ` +
        `batch answers ${submitter.answersLine()}; ` +
        `statuses ${tally([...views.values()].map((job) => job?.status ?? 'unreadable'))}; provider calls ${calls}`,
    );

    const failures = [...views.values()].filter((job) => job?.status === 'failed');
    if (failures.length > 0) console.log(JSON.stringify(failures.slice(0, 3), null, 1));
    // A replica took over: three masters, the victim not among them.
    expect(masters).toHaveLength(3);
    expect(masters.map((master) => master.port)).not.toContain(victim);
    expect([...answers.keys()].filter((status) => !['202', '503'].includes(status))).toEqual([]);
    expect(safeLost.map((job) => [job.id, views.get(job.id)?.status ?? 'unreadable'])).toEqual([]);
    expect(running.workers.every((worker) => worker.process.exitCode === null)).toBe(true);
  }, 240_000);
});
