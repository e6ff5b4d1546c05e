import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { jobRecordKey, RECORD_FIELD, createRedisConnection } from '@llmq/core';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { MAX_FILE_LINES } from '../../apps/api/src/openai-compat/batches/batch-file-upload.js';
import { batchJobId } from '../../apps/api/src/openai-compat/batches/batch-job-id.js';
import { checkedOpenAi } from '../support/checked-openai.js';
import { PrometheusMetrics } from '../support/prometheus-text.js';

let stack: Stack;
let client: OpenAI;
let redis: Redis;
const problems: string[] = [];

beforeAll(async () => {
  // One worker on the zero-latency simulator: jobs run while the batch is accepted and cancelled.
  // The lines run as ordinary jobs: this measures the API's intake at the largest size.
  stack = await startLlmqStack({ workers: 1, config: 'batching:\n  batch_api_lines: run\n' });
  client = checkedOpenAi(stack, 'alpha', problems).client;
  redis = createRedisConnection(stack.redisUrl);
}, 120_000);
afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function scrape(): Promise<PrometheusMetrics> {
  return new PrometheusMetrics(await (await fetch(`${stack.apiUrl}/metrics`)).text());
}

/** The statuses of the batch's line jobs, read from Redis in pipelines (null: no such job). */
async function jobStatuses(batchId: string, count: number): Promise<Array<string | null>> {
  const statuses: Array<string | null> = [];
  for (let start = 0; start < count; start += 5_000) {
    const pipeline = redis.pipeline();
    for (let index = start; index < Math.min(count, start + 5_000); index += 1) {
      pipeline.hget(jobRecordKey('alpha', batchJobId(batchId, index)), RECORD_FIELD.status);
    }
    for (const [, status] of (await pipeline.exec()) ?? []) statuses.push(typeof status === 'string' ? status : null);
  }
  return statuses;
}

/** Calls GET /healthz in a loop until stopped: how many answered, and the longest wait between answers. */
function probeHealth() {
  let running = true;
  let answers = 0;
  let longestGapMs = 0;
  const loop = (async () => {
    let last = Date.now();
    while (running) {
      const response = await fetch(`${stack.apiUrl}/healthz`);
      if (response.ok) answers += 1;
      const now = Date.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { answers, longestGapMs };
    },
  };
}

describe(`a batch of ${MAX_FILE_LINES} lines, the most a file holds`, () => {
  it('is accepted without stalling the API, every line a job, and its cancel runs in steps while the API answers', async () => {
    const lines = Array.from({ length: MAX_FILE_LINES }, (_, index) =>
      JSON.stringify({
        custom_id: `line-${index}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `Say hi ${index}` }], max_tokens: 5 },
      }),
    );
    const file = await client.files.create({
      file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'large.jsonl'),
      purpose: 'batch',
    });
    const before = await scrape(); // also restarts the API's event-loop delay measure
    const health = probeHealth();
    const startedAt = Date.now();
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const answeredMs = Date.now() - startedAt;
    expect(created.status).toBe('validating');

    // Lines are accepted in file order: once the last line's job exists, the acceptance is done.
    const lastJob = jobRecordKey('alpha', batchJobId(created.id, MAX_FILE_LINES - 1));
    for (;;) {
      const batch = await client.batches.retrieve(created.id);
      expect(batch.status).not.toBe('failed');
      if (batch.request_counts?.total === MAX_FILE_LINES && (await redis.exists(lastJob)) === 1) break;
      await sleep(500);
    }
    const acceptedMs = Date.now() - startedAt;
    // Every line is a job.
    expect((await jobStatuses(created.id, MAX_FILE_LINES)).filter((status) => status === null)).toEqual([]);
    const { answers, longestGapMs } = await health.stop();
    const accepting = await scrape();
    const acceptLagMs = accepting.value('nodejs_eventloop_lag_max_seconds') * 1000;

    // The cancel answers at once and works through the jobs in bounded steps while the API keeps
    // answering; that it reaches the last job is checked at a smaller size (openai-batches.test.ts):
    // its steps are the same at any size, and 50,000 cancels take minutes on this machine.
    const cancelProbe = probeHealth();
    const cancelling = await client.batches.cancel(created.id);
    expect(cancelling.status).toBe('cancelling');
    const settled = (batch: OpenAI.Batches.Batch) =>
      (batch.request_counts?.completed ?? 0) + (batch.request_counts?.failed ?? 0);
    const settledAtCancel = settled(cancelling);
    let during: OpenAI.Batches.Batch;
    for (;;) {
      during = await client.batches.retrieve(created.id);
      expect(['cancelling', 'cancelled']).toContain(during.status);
      if (settled(during) >= Math.min(MAX_FILE_LINES, settledAtCancel + 2_000)) break;
      await sleep(500);
    }
    const cancelHealth = await cancelProbe.stop();
    const after = await scrape();
    const cancelLagMs = after.value('nodejs_eventloop_lag_max_seconds') * 1000;
    console.info(
      `${MAX_FILE_LINES}-line batch: created answered in ${answeredMs} ms; all jobs made after ${acceptedMs} ms, ` +
        `/healthz answered ${answers} times meanwhile (longest gap ${longestGapMs} ms), API event loop's longest delay ` +
        `${acceptLagMs.toFixed(0)} ms; while cancelling, /healthz ${cancelHealth.answers} answers ` +
        `(longest gap ${cancelHealth.longestGapMs} ms), longest event-loop delay ${cancelLagMs.toFixed(0)} ms`,
    );

    // The API answered health probes all along: no request stalled it.
    expect(answers).toBeGreaterThan(10);
    expect(cancelHealth.answers).toBeGreaterThan(10);
    // Each line counted once; the jobs the cancel reached are canceled or had succeeded.
    expect(during.request_counts?.total).toBe(MAX_FILE_LINES);
    const statuses = await jobStatuses(created.id, MAX_FILE_LINES);
    expect(statuses.filter((status) => status === null)).toEqual([]);
    expect(statuses.filter((status) => status === 'canceled').length).toBeGreaterThan(0);
    expect(after.value('llmq_batches_created_total') - before.value('llmq_batches_created_total')).toBe(1);
    expect(problems).toEqual([]);
  }, 600_000);
});
