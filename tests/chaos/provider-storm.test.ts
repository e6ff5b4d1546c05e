import { afterAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import type { JobView, SimulatorStats } from '../support/llmq-client.js';
import {
  ANY_METRICS_PORT,
  chaosClient,
  chatJob,
  ENDED,
  printSummary,
  QUIET,
  setFaults,
  sleep,
  tally,
} from './chaos-support.js';

const MODEL = 'openai/storm-model';
const PATIENT_JOBS = 400;
const HASTY_JOBS = 200;
const STORM_MS = 8_000;
/** The error types a failed job may carry: every one names what went wrong. */
const CLASSIFIED = new Set([
  'rate_limit',
  'quota_exceeded',
  'authentication',
  'permission',
  'invalid_request',
  'overloaded',
  'timeout',
  'connection',
  'provider_error',
]);

let stack: Stack | undefined;

/** Every queued job of tenant alpha, through the list's pages. */
async function queuedJobs(running: Stack): Promise<JobView[]> {
  const jobs: JobView[] = [];
  for (let after = ''; ;) {
    const response = await fetch(`${running.apiUrl}/v1/jobs?status=queued&limit=100${after ? `&after=${after}` : ''}`, {
      headers: { authorization: `Bearer ${running.keys.alpha ?? ''}` },
    });
    const page = (await response.json()) as { data: JobView[]; next_cursor: string | null };
    jobs.push(...page.data);
    if (page.next_cursor === null) return jobs;
    after = page.next_cursor;
  }
}

afterAll(async () => {
  await stack?.stop();
});

describe('chaos: a storm of provider 429s and 500s, then calm', () => {
  it('ends every job: patient ones succeed, one-attempt ones succeed or fail with a classified error', async () => {
    stack = await startLlmqStack({
      workers: 2,
      // A circuit opened by the storm probes again after a second, not the default 30.
      workerEnv: { ...QUIET, ...ANY_METRICS_PORT, WORKER_CONCURRENCY: '32', LLMQ_CIRCUIT_OPEN_MS: '1000' },
      apiEnv: QUIET,
      simulatorEnv: { SIM_LATENCY_MS: '50', SIM_JITTER_MS: '100' },
    });
    const running = stack;
    const client = chaosClient(running);
    // First matching rule that wins its draw: 30% 429 (retry after 300 ms), then 40% of the rest 500.
    await setFaults(running, [
      { match: { model: 'storm-model' }, fault: '429', retry_after_ms: 300, probability: 0.3 },
      { match: { model: 'storm-model' }, fault: '500', probability: 0.4 },
    ]);
    const startedAt = Date.now();
    // Interleaved, so that the calls the storm lets through reach both kinds of job.
    const ids = await client.submitAll(
      Array.from({ length: PATIENT_JOBS + HASTY_JOBS }, (_, index) =>
        chatJob(index, { attempts: index % 3 === 2 ? 1 : 10 }, MODEL),
      ),
    );
    const patient = ids.filter((_, index) => index % 3 !== 2);
    const hasty = ids.filter((_, index) => index % 3 === 2);
    await sleep(Math.max(0, STORM_MS - (Date.now() - startedAt)));
    const stats = (await (await fetch(`${running.simulatorUrl}/_sim/stats`)).json()) as SimulatorStats;
    await setFaults(running, []);
    const calmAt = Date.now();
    await sleep(2_000);
    const heldBack = tally((await queuedJobs(running)).map((job) => job.waiting_for ?? 'backoff-or-queue'));

    const views = await client.settleAll(ids, { deadlineMs: 200_000 });
    const endedAfterCalmMs = Date.now() - calmAt;
    const final = (await (await fetch(`${running.simulatorUrl}/_sim/stats`)).json()) as SimulatorStats;
    const jobs = [...views.values()];
    const stuck = jobs.filter((job) => job === undefined || !ENDED.has(job.status));
    const failedJobs = jobs.filter((job) => job?.status === 'failed');
    const succeeded = jobs.filter((job) => job?.status === 'succeeded').length;
    const answered = final.requests.byStatus['200'] ?? 0;
    printSummary(
      'provider-storm',
      { jobs: jobs.length, lost: stuck.length, duplicated: answered - succeeded, failed: failedJobs.length },
      `${STORM_MS / 1000} s of 30% 429 + 40% 500 on ${MODEL}, then cleared; calls during the storm ` +
        `${Object.entries(stats.requests.byStatus)
          .map(([status, count]) => `${status}=${count}`)
          .join(' ')}; ` +
        `calls in all ${final.requests.total}; attempts=10 jobs: ${tally(patient.map((id) => views.get(id)?.status ?? 'unread'))}; ` +
        `attempts=1 jobs: ${tally(hasty.map((id) => views.get(id)?.status ?? 'unread'))}; ` +
        `failure types ${tally(failedJobs.map((job) => job?.error?.type ?? 'none'))}; ` +
        `queued 2 s after the calm, by waiting_for: ${heldBack || 'none'}; all ended ${endedAfterCalmMs} ms after the calm`,
    );

    expect(stuck.map((job) => job?.status ?? 'unread')).toEqual([]);
    expect(patient.filter((id) => views.get(id)?.status !== 'succeeded')).toEqual([]);
    expect(failedJobs.filter((job) => !CLASSIFIED.has(job?.error?.type ?? ''))).toEqual([]);
    // A successful answer is never fetched twice for the same job.
    expect(answered).toBe(succeeded);
  }, 300_000);
});
