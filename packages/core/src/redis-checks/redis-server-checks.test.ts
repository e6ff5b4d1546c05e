import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { createLogger } from '../logging/logger.js';
import { checkRedisServer, inspectRedisServer, RedisEvictionPolicyError } from './redis-server-checks.js';

function capturingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: createLogger({ name: 'test', level: 'info', destination }), lines };
}

const test = redisTest.extend('redis', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(async () => {
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    await redis.quit();
  });
  return redis;
});

describe('checkRedisServer', () => {
  test('accepts noeviction and reports the server and its persistence in one line', async ({ redis }) => {
    const { logger, lines } = capturingLogger();
    const report = await checkRedisServer(redis, { logger });
    expect(report).toMatchObject({ maxmemoryPolicy: 'noeviction', aof: { enabled: false }, rdbSchedule: '' });
    expect(report.server).toMatch(/^(redis|valkey) \d+\./);
    expect(lines.map((line) => line.msg)).toEqual([
      'redis persistence: AOF off, RDB off; a Redis restart loses every job',
    ]);
  });

  test('refuses allkeys-lru, naming the policy and the way out', async ({ redis }) => {
    await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const { logger } = capturingLogger();
    const refusal = checkRedisServer(redis, { logger });
    await expect(refusal).rejects.toBeInstanceOf(RedisEvictionPolicyError);
    await expect(refusal).rejects.toThrow(/maxmemory-policy is "allkeys-lru".*LLMQ_ALLOW_EVICTION=true/);
  });

  test('with allowEviction, runs and says so at error level', async ({ redis }) => {
    await redis.config('SET', 'maxmemory-policy', 'volatile-lru');
    const { logger, lines } = capturingLogger();
    await checkRedisServer(redis, { logger, allowEviction: true });
    expect(lines[0]).toMatchObject({ level: 50 });
    expect(lines[0]?.msg).toContain('running anyway because LLMQ_ALLOW_EVICTION=true');
  });

  test('a server that refuses CONFIG and INFO (managed Redis, ACLs) is a warning, not a crash', async ({
    redis,
    redisUrl,
  }) => {
    await redis.acl('SETUSER', 'limited', 'on', '>limited-password', '~*', '&*', '+@all', '-config', '-info');
    const url = new URL(redisUrl);
    url.username = 'limited';
    url.password = 'limited-password';
    const limited = new Redis(url.toString());
    try {
      await expect(limited.call('CONFIG', 'GET', 'maxmemory-policy')).rejects.toThrow(/NOPERM/);
      const { logger, lines } = capturingLogger();
      const report = await checkRedisServer(limited, { logger });
      expect(report).toEqual({
        server: undefined,
        maxmemoryPolicy: undefined,
        aof: undefined,
        rdbSchedule: undefined,
        cluster: undefined,
      });
      expect(lines.map((line) => line.msg)).toEqual([
        'could not read the Redis maxmemory-policy (INFO and CONFIG refused): make sure it is noeviction',
        'redis persistence: AOF unknown, RDB unknown (CONFIG refused)',
      ]);
    } finally {
      await limited.quit();
    }
  });

  test('INFO alone is enough to read the policy when CONFIG is refused', async ({ redis, redisUrl }) => {
    await redis.acl('SETUSER', 'no-config', 'on', '>no-config-password', '~*', '&*', '+@all', '-config');
    const url = new URL(redisUrl);
    url.username = 'no-config';
    url.password = 'no-config-password';
    const limited = new Redis(url.toString());
    try {
      expect(await inspectRedisServer(limited)).toMatchObject({
        maxmemoryPolicy: 'noeviction',
        aof: { enabled: false, fsync: undefined },
        rdbSchedule: undefined,
        cluster: false,
      });
    } finally {
      await limited.quit();
    }
  });
});
