import type { Cluster, Redis } from 'ioredis';
import { isClusterConnection } from '@llmq/core';

/**
 * Every key matching `pattern`, on one node or on every master of a cluster (a cluster client's
 * SCAN and KEYS reach one node only). For tests: it walks the whole keyspace.
 */
export async function allKeys(redis: Redis, pattern = '*'): Promise<string[]> {
  await redis.ping();
  const nodes = isClusterConnection(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys;
}
