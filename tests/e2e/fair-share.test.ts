import { describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { llmqClient, type JobView } from '../support/llmq-client.js';
import { PrometheusMetrics } from '../support/prometheus-text.js';

// One call every 100 ms: the limit binds as soon as a tenant has a backlog.
const RPM = 600;
const MODEL = 'openai/gpt-4o-mini';
const LIMITED = `limits:\n  ${MODEL}: { rpm: ${RPM} }\n`;

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  type: 'chat',
  request: { model: MODEL, messages: [{ role: 'user', content }], max_tokens: 5 },
  ...extra,
});

/** A stack whose simulator enforces the very limit llmq is configured with, on a strict window. */
const limitedStack = (config: string, simulatorEnv: Record<string, string> = {}) =>
  startLlmqStack({
    workers: 2,
    workerEnv: { WORKER_CONCURRENCY: '32' },
    simulatorEnv: { SIM_RPM: String(RPM), SIM_LATENCY_MS: '20', ...simulatorEnv },
    config,
  });

async function submitMany(stack: Stack, tenant: string, bodies: unknown[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < bodies.length; start += 1_000) {
    const response = await fetch(`${stack.apiUrl}/v1/jobs/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.keys[tenant] ?? ''}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jobs: bodies.slice(start, start + 1_000) }),
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { data: Array<{ id: string }> };
    ids.push(...body.data.map((job) => job.id));
  }
  return ids;
}

/** When each job's first provider call started (ms), for the jobs that have started. */
async function firstCalls(stack: Stack, tenant: string, ids: string[]): Promise<Map<string, number>> {
  const client = llmqClient(stack, tenant);
  const starts = new Map<string, number>();
  for (let start = 0; start < ids.length; start += 50) {
    const jobs = await Promise.all(ids.slice(start, start + 50).map(async (id) => (await client.get(id)).body));
    for (const job of jobs as unknown as JobView[]) {
      const first = job.attempt_log[0];
      if (first) starts.set(job.id, first.started_at * 1000);
    }
  }
  return starts;
}

describe('fair share between tenants, with real workers and a strict simulator', () => {
  it('two tenants weighted 3:1 that both saturate a model share it 3:1, with zero provider 429s', async () => {
    const stack = await limitedStack(`${LIMITED}fairness:\n  weights: { alpha: 3 }\n`);
    try {
      const bodies = (tenant: string) => Array.from({ length: 200 }, (_, index) => chat(`${tenant} ${index}`));
      const [alpha, beta] = await Promise.all([
        submitMany(stack, 'alpha', bodies('alpha')),
        submitMany(stack, 'beta', bodies('beta')),
      ]);
      // 13 s at 10 calls a second: both backlogs outlast it.
      await new Promise((resolve) => setTimeout(resolve, 13_000));
      const starts = [
        ...[...(await firstCalls(stack, 'alpha', alpha)).values()].map((at) => ({ tenant: 'alpha', at })),
        ...[...(await firstCalls(stack, 'beta', beta)).values()].map((at) => ({ tenant: 'beta', at })),
      ].sort((left, right) => left.at - right.at);
      // Past the first burst (taken in arrival order while the queues formed), 80 turns in a row.
      const turns = starts.slice(25, 105);
      expect(turns).toHaveLength(80);
      const share = turns.filter((turn) => turn.tenant === 'alpha').length / turns.length;
      expect(share).toBeGreaterThan(0.7);
      expect(share).toBeLessThan(0.8);
      const stats = await llmqClient(stack).stats();
      expect(stats.requests.rateLimited).toBe(0);

      // The workers' metrics say the same: each tenant's share of the model's capacity and its queue wait.
      const metrics = new PrometheusMetrics(
        await Promise.all(stack.workerMetricsUrls.map(async (url) => (await fetch(url)).text())),
      );
      const used = (tenant: string) =>
        metrics.value('llmq_limiter_capacity_used_seconds_total', { model: MODEL, tenant });
      expect(used('alpha') / (used('alpha') + used('beta'))).toBeGreaterThan(0.65);
      expect(metrics.count('llmq_queue_wait_by_tenant_seconds', { model: MODEL, tenant: 'beta' })).toBeGreaterThan(20);
    } finally {
      await stack.stop();
    }
  }, 90_000);

  it("a tenant's jobs start within one fair turn behind another tenant's 10,000-job backlog", async () => {
    const stack = await limitedStack(LIMITED);
    try {
      const backlog = await submitMany(
        stack,
        'alpha',
        Array.from({ length: 10_000 }, (_, index) => chat(`bulk ${index}`)),
      );
      // Once the last of the backlog is parked, every one of its calls is in the fair queue.
      const alpha = llmqClient(stack, 'alpha');
      await expect
        .poll(async () => (await alpha.get(String(backlog.at(-1)))).body.waiting_for, {
          timeout: 60_000,
          interval: 500,
        })
        .toBe('fair_share');
      const beta = llmqClient(stack, 'beta');
      const waits: number[] = [];
      for (let index = 0; index < 5; index++) {
        const sent = Date.now();
        const id = String((await beta.submit(chat(`interactive ${index}`))).body.id);
        const job = await beta.waitForEnd(id, 10_000);
        expect(job.status).toBe('succeeded');
        waits.push((job.attempt_log[0]?.started_at ?? Infinity) * 1000 - sent);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      // One turn: the horizon (250 ms) and a call slot (100 ms), plus the pipeline on a busy machine.
      for (const wait of waits) expect(wait).toBeLessThan(1_500);
      // The backlog is still there: beta did not wait for it.
      const started = await firstCalls(stack, 'alpha', backlog.slice(-100));
      expect(started.size).toBe(0);
      expect((await llmqClient(stack).stats()).requests.rateLimited).toBe(0);
    } finally {
      await stack.stop();
    }
  }, 150_000);

  it("priority orders a tenant's own waiting jobs: interactive ones overtake its bulk backlog", async () => {
    const stack = await limitedStack(LIMITED);
    try {
      const bulk = await submitMany(
        stack,
        'alpha',
        Array.from({ length: 40 }, (_, index) => chat(`bulk ${index}`, { priority: 'bulk' })),
      );
      const interactive = await submitMany(
        stack,
        'alpha',
        Array.from({ length: 5 }, (_, index) => chat(`interactive ${index}`, { priority: 'interactive' })),
      );
      const client = llmqClient(stack, 'alpha');
      for (const id of [...bulk, ...interactive])
        expect((await client.waitForEnd(id, 30_000)).status).toBe('succeeded');
      const bulkStarts = [...(await firstCalls(stack, 'alpha', bulk)).values()];
      const lastInteractive = Math.max(...(await firstCalls(stack, 'alpha', interactive)).values());
      // The burst and the horizon went before they came; every bulk job queued after that waits for them.
      expect(bulkStarts.filter((at) => at > lastInteractive).length).toBeGreaterThanOrEqual(15);
    } finally {
      await stack.stop();
    }
  }, 90_000);

  it('a capped tenant has at most its cap of calls in flight; others are not held back by it', async () => {
    const stack = await startLlmqStack({
      workers: 2,
      simulatorEnv: { SIM_LATENCY_MS: '400' },
      config: 'fairness:\n  max_in_flight: { beta: 2 }\n',
    });
    try {
      const simulator = llmqClient(stack);
      const run = async (tenant: string, count: number) => {
        await simulator.resetSimulator();
        const ids = await submitMany(
          stack,
          tenant,
          Array.from({ length: count }, (_, index) => chat(`${tenant} ${index}`)),
        );
        const client = llmqClient(stack, tenant);
        for (const id of ids) expect((await client.waitForEnd(id, 30_000)).status).toBe('succeeded');
        return (await simulator.stats()).inFlight.peak;
      };
      expect(await run('beta', 8)).toBe(2);
      expect(await run('alpha', 8)).toBe(8);
    } finally {
      await stack.stop();
    }
  }, 90_000);
});
