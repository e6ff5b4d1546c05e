import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { z } from 'zod';

/** Where llmq's data lives: one Redis (or Valkey) node, or a Redis Cluster named by its seed nodes. */
export type RedisTarget =
  | { kind: 'node'; url: string }
  | {
      kind: 'cluster';
      /** Seed nodes; the client learns the rest of the cluster from them. */
      nodes: ClusterNode[];
      username?: string;
      password?: string;
      tls: boolean;
    };

const CLUSTER_SCHEMES: Readonly<Record<string, boolean>> = { 'redis-cluster:': false, 'rediss-cluster:': true };

/**
 * Parses `REDIS_URL`: `redis://` or `rediss://` is one node (as ioredis reads it);
 * `redis-cluster://[user:password@]host:port,host:port,...` (or `rediss-cluster://` for TLS) is a
 * cluster with those seed nodes. Returns the problem, written for the operator, on a bad URL.
 */
export function parseRedisTarget(url: string): RedisTarget | { problem: string } {
  const scheme = /^[a-z-]+:/i.exec(url)?.[0].toLowerCase();
  if (scheme === 'redis:' || scheme === 'rediss:') {
    return URL.canParse(url) ? { kind: 'node', url } : { problem: 'is not a valid URL' };
  }
  if (scheme === undefined || !(scheme in CLUSTER_SCHEMES)) {
    return { problem: 'must be a redis://, rediss://, redis-cluster:// or rediss-cluster:// URL' };
  }
  const rest = url.slice(scheme.length).replace(/^\/\//, '').replace(/\/.*$/, '');
  const at = rest.lastIndexOf('@');
  const credentials = at === -1 ? '' : rest.slice(0, at);
  const hosts = (at === -1 ? rest : rest.slice(at + 1)).split(',').filter((host) => host !== '');
  if (hosts.length === 0) return { problem: 'names no cluster node (redis-cluster://host:port,host:port)' };
  const nodes: ClusterNode[] = [];
  for (const host of hosts) {
    // A single-node URL per seed reuses the URL parser for IPv6 brackets and ports.
    const parsed = URL.canParse(`redis://${host}`) ? new URL(`redis://${host}`) : undefined;
    if (parsed === undefined || parsed.hostname === '') return { problem: `has a malformed node "${host}"` };
    nodes.push({ host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || 6379) });
  }
  const colon = credentials.indexOf(':');
  const username = colon === -1 ? '' : decodeURIComponent(credentials.slice(0, colon));
  const password = decodeURIComponent(colon === -1 ? credentials : credentials.slice(colon + 1));
  return {
    kind: 'cluster',
    nodes,
    tls: CLUSTER_SCHEMES[scheme] ?? false,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  };
}

/** `REDIS_URL` in an app's environment schema: any URL `parseRedisTarget` takes. */
export const redisUrlSchema = z.string().superRefine((url, context) => {
  const target = parseRedisTarget(url);
  if ('problem' in target) context.addIssue({ code: 'custom', message: target.problem });
});

/**
 * The one place a connection is made: a single-node client, or ioredis' Cluster client for a
 * cluster URL. A Cluster speaks the same commands (scripts, pipelines within one slot, pub/sub),
 * so it is handed out as `Redis` and no other code needs to know which it got.
 */
export function createRedisConnection(url: string, options: RedisOptions = {}): Redis {
  const target = parseRedisTarget(url);
  if ('problem' in target) throw new Error(`REDIS_URL ${target.problem}`);
  if (target.kind === 'node') return new Redis(target.url, options);
  const cluster = new Cluster(target.nodes, {
    redisOptions: {
      ...options,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
    // Commands wait for a failover's new master rather than fail while the slot map is stale.
    enableOfflineQueue: options.enableOfflineQueue ?? true,
  });
  return cluster as unknown as Redis;
}

/** Whether a connection is ioredis' Cluster client. */
export function isClusterConnection(redis: Redis): boolean {
  return (redis as unknown) instanceof Cluster;
}
