import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';

const RPM = 1_800;
const TPM = 120_000;
let stack: Stack;

beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 4,
    workerEnv: { WORKER_CONCURRENCY: '32' },
    // The simulator enforces the very limits llmq is configured with, on a strict sliding window.
    simulatorEnv: { SIM_RPM: String(RPM), SIM_TPM: String(TPM), SIM_LATENCY_MS: '50' },
    config: `limits:\n  openai/gpt-4o-mini: { rpm: ${RPM}, tpm: ${TPM} }\n`,
  });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

interface SimulatorStats {
  requests: { total: number; rateLimited: number };
  windows: Record<string, { maxRequests: number; maxTokens: number }>;
}

describe('rate limits across 4 worker processes', () => {
  it('keeps every 60 s window under the provider’s limits: zero provider 429s, every job done', async () => {
    const authorization = `Bearer ${stack.keys.alpha}`;
    const jobs = 300;
    const ids = await Promise.all(
      Array.from({ length: jobs }, async (_, index) => {
        const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify({
            type: 'chat',
            request: {
              model: 'openai/gpt-4o-mini',
              messages: [{ role: 'user', content: `Job ${index}: ${'lorem ipsum '.repeat(index % 40)}` }],
              max_tokens: 40,
            },
          }),
        });
        expect(response.status).toBe(202);
        return ((await response.json()) as { id: string }).id;
      }),
    );

    // While the limit binds, waiting jobs say so.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const waiting = (await (
      await fetch(`${stack.apiUrl}/v1/jobs?status=queued&limit=100`, { headers: { authorization } })
    ).json()) as { data: Array<{ waiting_for: string | null; earliest_start_at: number | null }> };
    const parked = waiting.data.filter((job) => job.waiting_for !== null);
    expect(parked.length).toBeGreaterThan(0);
    // Past the horizon nothing is booked ahead: the backlog waits for its fair turns.
    expect(parked.some((job) => job.waiting_for === 'fair_share')).toBe(true);
    for (const job of parked) {
      // A reservation is a time to come; a fair-share wait's is the soonest its turn could come, as of its park.
      if (job.waiting_for === 'rate_limit') {
        expect(job.earliest_start_at).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 1);
      } else {
        expect(job.earliest_start_at).toBeGreaterThan(Math.floor(Date.now() / 1000) - 30);
      }
    }

    const deadline = Date.now() + 60_000;
    for (const id of ids) {
      const job = (await (
        await fetch(
          `${stack.apiUrl}/v1/jobs/${id}?wait=${Math.max(1, Math.min(60, Math.ceil((deadline - Date.now()) / 1000)))}`,
          {
            headers: { authorization },
          },
        )
      ).json()) as { status: string; attempts: number; waiting_for: string | null };
      expect(job.status).toBe('succeeded');
      expect(job.attempts).toBe(1);
      expect(job.waiting_for).toBeNull();
    }

    const stats = (await (await fetch(`${stack.simulatorUrl}/_sim/stats`)).json()) as SimulatorStats;
    expect(stats.requests.rateLimited).toBe(0);
    expect(stats.requests.total).toBe(jobs);
    const window = stats.windows['*'];
    expect(window?.maxRequests).toBeLessThanOrEqual(RPM);
    expect(window?.maxTokens).toBeLessThanOrEqual(TPM);
    // The limit bound: the jobs could not all have gone in the first second.
    expect(window?.maxTokens).toBeGreaterThan(TPM * 0.05);
  }, 90_000);
});
