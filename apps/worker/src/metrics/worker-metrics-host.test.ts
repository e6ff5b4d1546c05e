import { describe, expect, it } from 'vitest';
import { parseWorkerEnv } from '../config.js';

const env = (extra: Record<string, string>) => ({ REDIS_URL: 'redis://127.0.0.1:6379', ...extra });

describe('WORKER_METRICS_HOST', () => {
  it('is loopback by default', () => {
    expect(parseWorkerEnv(env({})).WORKER_METRICS_HOST).toBe('127.0.0.1');
  });

  it.each(['0.0.0.0', '10.1.2.3', '::', 'worker.internal'])(
    'refuses %s without LLMQ_METRICS_TOKEN, naming both variables',
    (host) => {
      expect(() => parseWorkerEnv(env({ WORKER_METRICS_HOST: host }))).toThrow(
        `WORKER_METRICS_HOST: ${host} is not a loopback address: set LLMQ_METRICS_TOKEN to serve metrics beyond this machine`,
      );
      expect(() => parseWorkerEnv(env({ WORKER_METRICS_HOST: host, LLMQ_METRICS_TOKEN: ' ' }))).toThrow(
        'WORKER_METRICS_HOST',
      );
    },
  );

  it('takes any interface with a token, any loopback one without, and any when metrics are off', () => {
    expect(parseWorkerEnv(env({ WORKER_METRICS_HOST: '0.0.0.0', LLMQ_METRICS_TOKEN: 'scrape-token' }))).toMatchObject({
      WORKER_METRICS_HOST: '0.0.0.0',
      LLMQ_METRICS_TOKEN: 'scrape-token',
    });
    for (const host of ['127.0.0.2', '::1', '[::1]', 'localhost']) {
      expect(parseWorkerEnv(env({ WORKER_METRICS_HOST: host })).WORKER_METRICS_HOST).toBe(host);
    }
    expect(parseWorkerEnv(env({ WORKER_METRICS_HOST: '0.0.0.0', WORKER_METRICS_PORT: 'off' }))).toMatchObject({
      WORKER_METRICS_PORT: 'off',
    });
  });
});
