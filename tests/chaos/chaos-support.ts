import type { Stack } from '@llmq/devkit';
import type { JobView } from '../support/llmq-client.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Short locks so that a killed worker's jobs are taken over in seconds, not a minute. */
export const FAST_STALLS = { LLMQ_LOCK_DURATION_MS: '3000', LLMQ_STALLED_INTERVAL_MS: '1500' };

/** Worker and API logs at warn: thousands of per-job info lines only cost CPU the test needs. */
export const QUIET = { LOG_LEVEL: 'warn' };

/** Several workers on one machine: each its own metrics port. */
export const ANY_METRICS_PORT = { WORKER_METRICS_PORT: '0' };

export const ENDED = new Set(['succeeded', 'failed', 'canceled']);

export function chatJob(index: number, extra: Record<string, unknown> = {}, model = 'openai/gpt-4o-mini') {
  return {
    type: 'chat',
    request: { model, messages: [{ role: 'user', content: `chaos job ${index}` }], max_tokens: 8 },
    ...extra,
  };
}

/** A client for one tenant of the stack: batch submission and settling thousands of jobs. */
export function chaosClient(stack: Stack, tenant = 'alpha') {
  const headers = { authorization: `Bearer ${stack.keys[tenant] ?? ''}`, 'content-type': 'application/json' };

  /** One `POST /v1/jobs/batch`: the status, and the ids when accepted. */
  const submitBatch = async (jobs: unknown[]): Promise<{ status: number; ids: string[] }> => {
    const response = await fetch(`${stack.apiUrl}/v1/jobs/batch`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jobs }),
    });
    const body = (await response.json()) as { data?: Array<{ id: string }> };
    return { status: response.status, ids: response.status === 202 ? (body.data ?? []).map((job) => job.id) : [] };
  };

  /** Submits every job in batches of up to 1,000; any refusal fails the test. */
  const submitAll = async (jobs: unknown[]): Promise<string[]> => {
    const ids: string[] = [];
    for (let start = 0; start < jobs.length; start += 1_000) {
      const batch = await submitBatch(jobs.slice(start, start + 1_000));
      if (batch.status !== 202) throw new Error(`the batch at ${start} was refused with ${batch.status}`);
      ids.push(...batch.ids);
    }
    return ids;
  };

  const read = async (id: string, waitSeconds: number): Promise<JobView | undefined> => {
    try {
      const response = await fetch(`${stack.apiUrl}/v1/jobs/${id}?wait=${waitSeconds}`, { headers });
      return response.status === 200 ? ((await response.json()) as JobView) : undefined;
    } catch {
      // The API may be unreachable for a moment (a Redis restart answers 503 above); try again later.
      return undefined;
    }
  };

  /**
   * Long-polls every job until it ends or `deadlineMs` passes, `concurrency` at a time, and
   * returns the last view of each (undefined: never read). Jobs still running go to the back.
   */
  const settleAll = async (
    ids: readonly string[],
    options: { deadlineMs: number; concurrency?: number; onEnded?: (count: number) => void },
  ): Promise<Map<string, JobView | undefined>> => {
    const deadline = Date.now() + options.deadlineMs;
    const views = new Map<string, JobView | undefined>(ids.map((id) => [id, undefined]));
    const pending = [...ids];
    let ended = 0;
    const loop = async () => {
      for (let id = pending.shift(); id !== undefined && Date.now() < deadline; id = pending.shift()) {
        const left = Math.max(1, Math.min(10, Math.floor((deadline - Date.now()) / 1000)));
        const view = await read(id, left);
        if (view !== undefined) views.set(id, view);
        if (view !== undefined && ENDED.has(view.status)) {
          ended += 1;
          options.onEnded?.(ended);
        } else {
          pending.push(id);
          if (view === undefined) await sleep(200);
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 48 }, loop));
    return views;
  };

  return { submitBatch, submitAll, settleAll };
}

export async function simulatorCalls(stack: Stack): Promise<number> {
  const stats = (await (await fetch(`${stack.simulatorUrl}/_sim/stats`)).json()) as { requests: { total: number } };
  return stats.requests.total;
}

export async function setFaults(stack: Stack, rules: unknown[]): Promise<void> {
  const response = await fetch(`${stack.simulatorUrl}/_sim/faults`, { method: 'POST', body: JSON.stringify(rules) });
  if (!response.ok) throw new Error(`the simulator refused the faults: ${await response.text()}`);
}

/** Counts of values, e.g. statuses: `succeeded=4990 failed=10`. */
export function tally(values: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([value, count]) => `${value}=${count}`)
    .join(' ');
}

/** Prints the scenario's one-line summary where vitest shows it, whatever the reporter. */
export function printSummary(
  name: string,
  figures: { jobs: number; lost: number; duplicated: number; failed: number },
  details: string,
): void {
  process.stdout.write(
    `chaos ${name}: jobs=${figures.jobs} lost=${figures.lost} duplicated=${figures.duplicated} failed=${figures.failed} (${details})\n`,
  );
}

/**
 * Batches of 20 chat jobs every 50 ms until stopped: each accepted job with the time its batch
 * was answered, and a count of the batch answers by status (0: no connection).
 */
export function submitContinuously(client: ReturnType<typeof chaosClient>) {
  const accepted: Array<{ id: string; at: number }> = [];
  const answers = new Map<string, number>();
  let submitting = true;
  const running = (async () => {
    for (let batch = 0; submitting; batch += 1) {
      const jobs = Array.from({ length: 20 }, (_, index) => chatJob(batch * 20 + index));
      const outcome = await client.submitBatch(jobs).catch(() => ({ status: 0, ids: [] }));
      const at = Date.now();
      answers.set(String(outcome.status), (answers.get(String(outcome.status)) ?? 0) + 1);
      for (const id of outcome.ids) accepted.push({ id, at });
      await sleep(50);
    }
  })();
  return {
    accepted,
    answers,
    /** The batch answers as `202x103 503x1`. */
    answersLine: () =>
      [...answers].map(([status, count]) => `${status === '0' ? 'no-connection' : status}x${count}`).join(' '),
    stop: async () => {
      submitting = false;
      await running;
    },
  };
}
