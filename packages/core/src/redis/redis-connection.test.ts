import { describe, expect, it } from 'vitest';
import { parseRedisTarget, redisUrlSchema } from './redis-connection.js';

describe('parseRedisTarget', () => {
  it('reads one node from redis:// and rediss:// as they are', () => {
    expect(parseRedisTarget('redis://127.0.0.1:6379/0')).toEqual({ kind: 'node', url: 'redis://127.0.0.1:6379/0' });
    expect(parseRedisTarget('rediss://user:pw@cache.example.com:6380')).toMatchObject({ kind: 'node' });
  });

  it('reads a cluster from its seed nodes, with credentials and TLS', () => {
    expect(parseRedisTarget('redis-cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    expect(parseRedisTarget('rediss-cluster://llmq:s%40cret@a.example.com:6379,b.example.com/')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a.example.com', port: 6379 },
        { host: 'b.example.com', port: 6379 },
      ],
      username: 'llmq',
      password: 's@cret',
      tls: true,
    });
    // A password alone (Redis before ACLs).
    expect(parseRedisTarget('redis-cluster://:only-password@h:1')).toMatchObject({ password: 'only-password' });
  });

  it('names what is wrong with a URL it cannot take, never echoing a password', () => {
    const problem = (url: string) => {
      const parsed = redisUrlSchema.safeParse(url);
      return parsed.success ? undefined : parsed.error.issues[0]?.message;
    };
    expect(problem('http://localhost:6379')).toBe(
      'must be a redis://, rediss://, redis-cluster:// or rediss-cluster:// URL',
    );
    expect(problem('redis-cluster://')).toBe('names no cluster node (redis-cluster://host:port,host:port)');
    expect(problem('redis-cluster://user:secret@h:1,bad host:2')).toBe('has a malformed node "bad host:2"');
    expect(problem('redis-cluster://h1:7000,h2:7001')).toBeUndefined();
  });
});
