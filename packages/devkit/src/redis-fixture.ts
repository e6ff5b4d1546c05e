import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'vitest';
import { removeDir, startRedisServer } from './redis-server.js';

/**
 * `redisTest` gives each test file its own redis-server on a free port, so files run in
 * parallel without sharing keys and never touch a Redis already running on the machine.
 */
export const redisTest = test.extend('redisUrl', { scope: 'file' }, async ({}, { onCleanup }) => {
  const dir = await mkdtemp(join(tmpdir(), 'llmq-redis-'));
  const server = await startRedisServer({ dir });
  onCleanup(async () => {
    await server.stop();
    await removeDir(dir);
  });
  return server.url;
});
