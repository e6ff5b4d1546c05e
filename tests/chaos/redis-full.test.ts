import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import {
  ANY_METRICS_PORT,
  chatJob,
  chaosClient,
  printSummary,
  QUIET,
  simulatorCalls,
  sleep,
  tally,
} from './chaos-support.js';
import { startSwitchableReceiver, type SwitchableReceiver } from './switchable-receiver.js';

const JOBS = 300;
const CONFIG = `
webhooks:
  allow_cidrs: ["127.0.0.2/32"]
  retry_delays_seconds: [0.5, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
`;

let stack: Stack | undefined;
let receiver: SwitchableReceiver | undefined;

afterAll(async () => {
  await Promise.all([stack?.stop(), receiver?.close()]);
});

/**
 * Redis reaches `maxmemory` (noeviction) while calls are in flight: every write is refused for a
 * while. Every job must still end, each provider call be made once (a paid answer is kept in
 * memory until Redis takes it), every webhook be sent, and the API answer 503, never 500.
 */
// 5 s of a full Redis is an end-to-end case (tests/e2e/every-job-ends.test.ts); here, 30 s at scale.
describe.each([30_000])('chaos: Redis full for %i ms mid-run', (fullMs) => {
  it('every job succeeds once, with its webhook; submissions meanwhile get 503', async () => {
    await Promise.all([stack?.stop(), receiver?.close()]);
    [stack, receiver] = await Promise.all([
      startLlmqStack({
        config: CONFIG,
        workers: 2,
        workerEnv: { ...QUIET, ...ANY_METRICS_PORT, WORKER_CONCURRENCY: '16' },
        apiEnv: QUIET,
        simulatorEnv: { SIM_LATENCY_MS: '1000' },
      }),
      startSwitchableReceiver('127.0.0.2'),
    ]);
    const running = stack;
    const endpoint = receiver;
    const admin = new Redis(running.redisUrl);
    try {
      const client = chaosClient(running);
      const webhook = { url: `${endpoint.url}/hooks/llmq` };
      const ids = await client.submitAll(Array.from({ length: JOBS }, (_, index) => chatJob(index, { webhook })));
      await sleep(1_500);
      await admin.config('SET', 'maxmemory', '1');
      const refusals: number[] = [];
      for (const until = Date.now() + fullMs; Date.now() < until; await sleep(500)) {
        refusals.push((await client.submitBatch([chatJob(0, { webhook })])).status);
      }
      await admin.config('SET', 'maxmemory', '0');

      const views = await client.settleAll(ids, { deadlineMs: 120_000 });
      const statuses = [...views.values()].map((view) => view?.status ?? 'unread');
      const calls = await simulatorCalls(running);
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(500)) {
        if (
          new Set(endpoint.received.filter((delivery) => delivery.status === 200).map((d) => d.webhookId)).size >= JOBS
        )
          break;
      }
      const delivered = new Set(
        endpoint.received.filter((delivery) => delivery.status === 200).map((delivery) => delivery.webhookId),
      );
      const expected = ids.map((id) => `msg_${id}_succeeded`);
      const missing = expected.filter((id) => !delivered.has(id));
      printSummary(
        `redis-full-${fullMs / 1000}s`,
        {
          jobs: JOBS,
          lost: statuses.filter((status) => status !== 'succeeded' && status !== 'failed').length,
          duplicated: calls - JOBS,
          failed: statuses.filter((status) => status === 'failed').length,
        },
        `Redis refused writes for ${fullMs / 1000} s with calls in flight; job statuses ${tally(statuses)}; ` +
          `provider calls ${calls}; webhooks delivered ${delivered.size}/${JOBS}; submissions while full: ` +
          `${tally(refusals.map(String))}`,
      );

      expect(statuses).toEqual(ids.map(() => 'succeeded'));
      expect(calls).toBe(JOBS);
      expect(missing).toEqual([]);
      expect(refusals.length).toBeGreaterThan(0);
      expect(refusals.every((status) => status === 503)).toBe(true);
    } finally {
      await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
      await admin.quit();
    }
  }, 300_000);
});
