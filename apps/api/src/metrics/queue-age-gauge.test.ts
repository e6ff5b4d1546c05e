import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { QUEUE_PREFIX } from '@llmq/core';
import { PrometheusMetrics } from '../../../../tests/support/prometheus-text.js';
import { ApiMetrics } from './api-metrics.js';

const NOW = 1_800_000_000_000;

const test = redisTest.extend('queue', async ({ redisUrl }, { onCleanup }) => {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(`age-${randomUUID()}`, { connection, prefix: QUEUE_PREFIX });
  onCleanup(async () => {
    await queue.close();
    connection.disconnect();
  });
  return Object.assign(queue, { connection });
});

describe('llmq_queue_oldest_job_age_seconds', () => {
  test('is the age of the job each waiting list hands out next; 0 for an empty list', async ({ queue }) => {
    const metrics = new ApiMetrics({ queues: [queue], processMetrics: false, now: () => NOW });
    const scrape = async () => new PrometheusMetrics(await metrics.registry.metrics());
    const age = (parsed: PrometheusMetrics, state: string) =>
      parsed.value('llmq_queue_oldest_job_age_seconds', { queue: queue.name, state });

    const empty = await scrape();
    expect(['wait', 'prioritized', 'delayed'].map((state) => age(empty, state))).toEqual([0, 0, 0]);

    // Queued 90 s, 60 s and 30 s ago: the wait list hands out the oldest first.
    for (const secondsAgo of [90, 60, 30]) await queue.add('job', {}, { timestamp: NOW - secondsAgo * 1000 });
    await queue.add('urgent', {}, { timestamp: NOW - 5_000, priority: 1 });
    // Delayed: the one due first is the one read, whatever its age.
    await queue.add('later', {}, { timestamp: NOW - 300_000, delay: 3_600_000 });
    await queue.add('sooner', {}, { timestamp: NOW - 120_000, delay: 60_000 });

    const parsed = await scrape();
    expect(age(parsed, 'wait')).toBe(90);
    expect(age(parsed, 'prioritized')).toBe(5);
    expect(age(parsed, 'delayed')).toBe(120);
  });

  test('is left out, not made up, while Redis does not answer', async ({ queue }) => {
    const metrics = new ApiMetrics({ queues: [queue], processMetrics: false, now: () => NOW });
    await queue.add('job', {}, { timestamp: NOW - 1_000 });
    queue.connection.disconnect();
    const parsed = new PrometheusMetrics(await metrics.registry.metrics());
    expect(parsed.labels('llmq_queue_oldest_job_age_seconds')).toEqual([]);
    expect(parsed.value('llmq_queue_scrape_ok')).toBe(0);
  });
});
