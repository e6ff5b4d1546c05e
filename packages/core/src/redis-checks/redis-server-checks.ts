import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';

/** What llmq could learn about its Redis; a field is undefined when the server would not say. */
export interface RedisServerReport {
  /** `redis 7.2.4`, `valkey 8.0.1`. */
  server: string | undefined;
  maxmemoryPolicy: string | undefined;
  /** AOF on or off, and its fsync policy when CONFIG answers. */
  aof: { enabled: boolean; fsync: string | undefined } | undefined;
  /** RDB snapshot schedule (`CONFIG GET save`): '' when snapshots are off. */
  rdbSchedule: string | undefined;
  cluster: boolean | undefined;
}

export interface RedisCheckOptions {
  /** Run on a Redis that may evict keys, with a loud warning, instead of refusing. Default: false. */
  allowEviction?: boolean;
  logger: Logger;
}

/** Thrown when Redis may evict keys: queued jobs and records would vanish without a trace. */
export class RedisEvictionPolicyError extends Error {
  override readonly name = 'RedisEvictionPolicyError';
}

/** `INFO` text -> field -> value. */
function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

// Managed services (ElastiCache, Memorystore, Upstash...) often refuse CONFIG, and ACLs may refuse
// INFO: each question is asked on its own and a refusal only leaves its answer unknown.
async function configValue(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const reply = (await redis.call('CONFIG', 'GET', name)) as unknown;
    return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the settings llmq depends on from INFO, falling back to CONFIG GET. */
export async function inspectRedisServer(redis: Redis): Promise<RedisServerReport> {
  const info = parseInfo(await redis.info().catch(() => ''));
  const valkey = info.get('valkey_version');
  const redisVersion = info.get('redis_version');
  const aofEnabled = info.get('aof_enabled') ?? (await configValue(redis, 'appendonly'));
  const cluster = info.get('cluster_enabled');
  return {
    server: valkey ? `valkey ${valkey}` : redisVersion ? `redis ${redisVersion}` : undefined,
    maxmemoryPolicy: info.get('maxmemory_policy') ?? (await configValue(redis, 'maxmemory-policy')),
    aof:
      aofEnabled === undefined
        ? undefined
        : { enabled: aofEnabled === '1' || aofEnabled === 'yes', fsync: await configValue(redis, 'appendfsync') },
    rdbSchedule: await configValue(redis, 'save'),
    cluster: cluster === undefined ? undefined : cluster === '1',
  };
}

function describePersistence(report: RedisServerReport): string {
  const aof =
    report.aof === undefined
      ? 'AOF unknown'
      : report.aof.enabled
        ? `AOF on${report.aof.fsync ? ` (appendfsync ${report.aof.fsync})` : ''}`
        : 'AOF off';
  const rdb =
    report.rdbSchedule === undefined
      ? 'RDB unknown (CONFIG refused)'
      : report.rdbSchedule === ''
        ? 'RDB off'
        : `RDB save ${report.rdbSchedule}`;
  return `${aof}, ${rdb}`;
}

/**
 * Start-up check of the Redis llmq is about to use: refuses an eviction policy other than
 * `noeviction` (unless `allowEviction`), and logs what the server persists.
 */
export async function checkRedisServer(redis: Redis, options: RedisCheckOptions): Promise<RedisServerReport> {
  const report = await inspectRedisServer(redis);
  const { logger } = options;
  const policy = report.maxmemoryPolicy;
  if (policy !== undefined && policy !== 'noeviction') {
    const danger = `Redis maxmemory-policy is "${policy}": under memory pressure Redis would silently delete queued jobs and job records`;
    if (!options.allowEviction) {
      throw new RedisEvictionPolicyError(
        `${danger}. Set it to noeviction (redis.conf "maxmemory-policy noeviction", "CONFIG SET maxmemory-policy noeviction", ` +
          `or your provider's parameter group), or set LLMQ_ALLOW_EVICTION=true to run anyway.`,
      );
    }
    logger.error({ maxmemoryPolicy: policy }, `${danger}; running anyway because LLMQ_ALLOW_EVICTION=true`);
  } else if (policy === undefined) {
    logger.warn('could not read the Redis maxmemory-policy (INFO and CONFIG refused): make sure it is noeviction');
  }
  const persistence = describePersistence(report);
  const fields = { server: report.server, maxmemoryPolicy: policy, cluster: report.cluster };
  if (report.aof?.enabled === false && report.rdbSchedule === '') {
    logger.warn(fields, `redis persistence: ${persistence}; a Redis restart loses every job`);
  } else {
    logger.info(fields, `redis persistence: ${persistence}`);
  }
  return report;
}
