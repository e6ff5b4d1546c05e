import { describe, expect, it } from 'vitest';
import { isRedisUnavailable } from './redis-unavailable.js';

describe('isRedisUnavailable', () => {
  it("takes a cluster's failover errors for Redis being unavailable, and nothing else", () => {
    const error = (message: string, name = 'Error') => Object.assign(new Error(message), { name });
    for (const unavailable of [
      error('Too many Cluster redirections. Last error: ReplyError: MOVED 12104 127.0.0.1:38639'),
      error('Failed to refresh slots cache.', 'ClusterAllFailedError'),
      error('CLUSTERDOWN The cluster is down'),
      error('connect ECONNREFUSED 127.0.0.1:6379'),
      error("OOM command not allowed when used memory > 'maxmemory'."),
    ]) {
      expect(isRedisUnavailable(unavailable), unavailable.message).toBe(true);
    }
    expect(isRedisUnavailable(error('ERR wrong number of arguments for script'))).toBe(false);
    expect(isRedisUnavailable('CLUSTERDOWN')).toBe(false);
  });
});
