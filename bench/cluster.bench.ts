/**
 * `pnpm bench:cluster`: llmq on a Redis Cluster (3 masters, 3 replicas) against one Redis node,
 * in the same run: end-to-end jobs/s, Redis commands per job from `INFO commandstats` (summed
 * over the masters; commands inside Lua scripts included), and how evenly the commands spread
 * over the masters. Eight tenants submit, so tenants' records land on every shard.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRedisConnection } from '@llmq/core';
import { removeDir, startRedisCluster, startRedisServer } from '@llmq/devkit';
import { inParallel, runIfMain, startBenchStack, waitFor, type BenchRow } from './bench-kit.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 3_000);
const PRODUCERS = 32;
/** Tenants whose hash tags fall in every third of the slots, so records spread over the masters. */
const TENANTS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
const keyOf = (tenant: string) => `${tenant}-key-0123456789abcdef`;

/** Every command a Redis node has run so far. */
async function commandsRun(url: string): Promise<number> {
  const node = new Redis(url);
  try {
    const info = await node.info('commandstats');
    let calls = 0;
    for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) calls += Number(match[1]);
    return calls;
  } finally {
    node.disconnect();
  }
}

/** Jobs/s through llmq on `redisUrl`, and the commands each of `nodeUrls` ran meanwhile. */
async function run(redisUrl: string, nodeUrls: string[]): Promise<{ jobsPerSecond: number; commands: number[] }> {
  const stack = await startBenchStack(redisUrl, {
    apiEnv: { LLMQ_API_KEYS: TENANTS.map((tenant) => `${tenant}:${keyOf(tenant)}`).join(',') },
  });
  const redis = createRedisConnection(redisUrl);
  try {
    const succeeded = async () =>
      (await Promise.all(TENANTS.map((tenant) => redis.zcard(`llmq:{t:${tenant}}:jobs:succeeded`)))).reduce(
        (sum, count) => sum + count,
        0,
      );
    const before = await Promise.all(nodeUrls.map(commandsRun));
    const started = performance.now();
    await inParallel(JOBS, PRODUCERS, async (index) => {
      const tenant = TENANTS[index % TENANTS.length] ?? 'alpha';
      const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keyOf(tenant)}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'chat',
          request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `bench ${index}` }] },
        }),
      });
      if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    });
    await waitFor(async () => (await succeeded()) >= JOBS, 600_000, 200);
    const seconds = (performance.now() - started) / 1000;
    const after = await Promise.all(nodeUrls.map(commandsRun));
    return { jobsPerSecond: JOBS / seconds, commands: after.map((count, index) => count - (before[index] ?? 0)) };
  } finally {
    redis.disconnect();
    await stack.stop();
  }
}

export async function clusterBenchmark(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'llmq-bench-cluster-'));
  try {
    const node = await startRedisServer({ dir: join(dir, 'node') });
    const single = await run(node.url, [node.url]).finally(() => node.stop());
    const cluster = await startRedisCluster({ dir: join(dir, 'cluster') });
    const masters = (await cluster.masters()).map((master) => `redis://127.0.0.1:${master.port}`);
    const sharded = await run(cluster.url, masters).finally(() => cluster.stop());

    const perJob = (commands: number[]) => commands.reduce((sum, count) => sum + count, 0) / JOBS;
    const mean = sharded.commands.reduce((sum, count) => sum + count, 0) / sharded.commands.length;
    const busiest = Math.max(...sharded.commands);
    const shares = sharded.commands.map((count) => `${((count / (mean * sharded.commands.length)) * 100).toFixed(0)}%`);
    return [
      {
        benchmark: `Redis Cluster: ${JOBS.toLocaleString('en')} chat jobs of 8 tenants, 2 workers x 64, zero-latency simulator: end-to-end throughput`,
        figure: `${sharded.jobsPerSecond.toFixed(0)} jobs/s on 3 masters + 3 replicas`,
        baseline: `${single.jobsPerSecond.toFixed(0)} jobs/s on one node`,
        ratio: (sharded.jobsPerSecond / single.jobsPerSecond).toFixed(2),
        target: '- (two cores: shows the overhead, not the scaling)',
      },
      {
        benchmark: 'Redis Cluster: Redis commands per job (INFO commandstats, summed over the masters)',
        figure: `${perJob(sharded.commands).toFixed(1)}`,
        baseline: `${perJob(single.commands).toFixed(1)} on one node`,
        ratio: (perJob(sharded.commands) / perJob(single.commands)).toFixed(2),
        target: '-',
      },
      {
        benchmark: 'Redis Cluster: spread of the commands over the masters (busiest / mean)',
        figure: `${(busiest / mean).toFixed(2)} (shares ${shares.join(', ')})`,
        baseline: '1.00 (even)',
        ratio: (busiest / mean).toFixed(2),
        target: '<= 1.25',
        met: busiest / mean <= 1.25,
      },
    ];
  } finally {
    await removeDir(dir);
  }
}

runIfMain(import.meta.url, clusterBenchmark);
