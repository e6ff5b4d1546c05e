import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedisCluster, type RunningRedisCluster } from './redis-cluster.js';
import { removeDir } from './redis-server.js';

const KEYS = Array.from({ length: 1_000 }, (_, index) => `job:${index}`);

async function onNode<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('startRedisCluster', () => {
  let dir: string;
  let cluster: RunningRedisCluster;
  let client: Cluster;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llmq-redis-cluster-'));
    const started = Date.now();
    cluster = await startRedisCluster({ dir });
    console.info(`cluster of ${cluster.nodes.length} nodes ready in ${Date.now() - started} ms`);
    client = new Cluster(cluster.seeds.map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })));
  }, 60_000);

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
    if (dir) await removeDir(dir);
  });

  test('forms 3 masters with a replica each, named by one seed URL', async () => {
    expect(cluster.nodes.filter((node) => node.role === 'master')).toHaveLength(3);
    expect(cluster.nodes.filter((node) => node.role === 'replica')).toHaveLength(3);
    expect(cluster.url).toBe(`redis-cluster://${cluster.seeds.join(',')}`);
    const masters = await cluster.masters();
    expect(masters.map((master) => master.port).sort()).toEqual(
      cluster.nodes
        .filter((node) => node.role === 'master')
        .map((node) => node.port)
        .sort(),
    );
    for (const node of cluster.nodes) {
      const pairs = (await onNode(node.port, (redis) =>
        redis.config('GET', 'appendonly', 'maxmemory-policy'),
      )) as string[];
      const config = Object.fromEntries(
        pairs.flatMap((value, index) => (index % 2 ? [] : [[value, pairs[index + 1]]])),
      );
      expect(config).toEqual({ appendonly: 'yes', 'maxmemory-policy': 'noeviction' });
    }
  });

  test('spreads keys over every master and keeps a shard readable after its master is killed', async () => {
    await Promise.all(KEYS.map((key) => client.set(key, `value of ${key}`)));
    expect(await Promise.all(KEYS.map((key) => client.get(key)))).toEqual(KEYS.map((key) => `value of ${key}`));

    const masters = await cluster.masters();
    const perMaster = await Promise.all(masters.map((master) => onNode(master.port, (redis) => redis.dbsize())));
    expect(perMaster.every((count) => count > 200)).toBe(true);
    expect(perMaster.reduce((sum, count) => sum + count, 0)).toBe(KEYS.length);

    const [victim] = masters;
    if (!victim) throw new Error('no master');
    const victimKeys = await onNode(victim.port, (redis) => redis.keys('job:*'));
    // The replica must hold every key before its master dies, or the promotion loses some.
    await onNode(victim.port, (redis) => redis.wait(1, 5_000));

    const killedAt = Date.now();
    await cluster.killNode(victim.port);
    const survivors = cluster.nodes.filter((node) => node.port !== victim.port);
    await waitUntil('a replica promoted and the cluster ok', 30_000, async () => {
      const now = await cluster.masters();
      if (now.length !== 3 || now.some((master) => master.port === victim.port)) return false;
      const states = await Promise.all(
        survivors.map((node) => onNode(node.port, (redis) => redis.cluster('INFO') as Promise<string>)),
      );
      return states.every((info) => info.includes('cluster_state:ok'));
    });
    const failoverMs = Date.now() - killedAt;

    const promoted = (await cluster.masters()).filter(
      (master) => !masters.some((previous) => previous.port === master.port),
    );
    expect(promoted).toHaveLength(1);
    const values = await Promise.all(victimKeys.map((key) => client.get(key)));
    expect(values).toEqual(victimKeys.map((key) => `value of ${key}`));
    console.info(`failover: ${failoverMs} ms; ${victimKeys.length} keys of the killed shard read back`);
  }, 60_000);
});
