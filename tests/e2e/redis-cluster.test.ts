import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { llmqClient } from '../support/llmq-client.js';

const MODEL = 'openai/gpt-4o-mini';
const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  type: 'chat',
  request: { model: MODEL, messages: [{ role: 'user', content }], max_tokens: 5 },
  ...extra,
});

async function submitMany(stack: Stack, tenant: string, bodies: unknown[]): Promise<string[]> {
  const response = await fetch(`${stack.apiUrl}/v1/jobs/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.keys[tenant] ?? ''}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jobs: bodies }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { data: Array<{ id: string }> }).data.map((job) => job.id);
}

describe('on a Redis Cluster (3 masters, 3 replicas), with real workers', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startLlmqStack({
      redisCluster: true,
      workers: 2,
      simulatorEnv: { SIM_LATENCY_MS: '20' },
      // A limited model takes the limiter's and fair share's scripts through the cluster too.
      config: `limits:\n  openai/gpt-4.1-mini: { rpm: 600 }\n`,
    });
  }, 90_000);
  afterAll(async () => stack?.stop());

  it('runs chat and embedding jobs of several tenants to their end, limited or not', async () => {
    const [alpha, beta, limited] = await Promise.all([
      submitMany(
        stack,
        'alpha',
        Array.from({ length: 40 }, (_, index) => chat(`alpha ${index}`)),
      ),
      submitMany(
        stack,
        'beta',
        Array.from({ length: 40 }, (_, index) => chat(`beta ${index}`)),
      ),
      submitMany(
        stack,
        'alpha',
        Array.from({ length: 20 }, (_, index) => ({
          type: 'chat',
          request: { model: 'openai/gpt-4.1-mini', messages: [{ role: 'user', content: `limited ${index}` }] },
        })),
      ),
    ]);
    const embedding = await llmqClient(stack, 'beta').submit({
      type: 'embedding',
      request: { model: 'openai/text-embedding-3-small', input: ['one', 'two'] },
    });
    expect(embedding.status).toBe(202);
    for (const [tenant, ids] of [
      ['alpha', [...alpha, ...limited]],
      ['beta', [...beta, String(embedding.body.id)]],
    ] as const) {
      const client = llmqClient(stack, tenant);
      const jobs = await Promise.all(ids.map((id) => client.waitForEnd(id, 60_000)));
      for (const job of jobs) expect(job.status).toBe('succeeded');
    }
    // Tenants' records, limiter buckets and queues spread over the masters: each holds llmq's keys.
    expect(stack.redisUrl).toMatch(/^redis-cluster:\/\//);
    const cluster = new Cluster(
      (stack.cluster?.seeds ?? []).map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })),
    );
    try {
      await cluster.ping();
      const sizes = await Promise.all(cluster.nodes('master').map(async (node) => Number(await node.dbsize())));
      expect(sizes).toHaveLength(3);
      for (const size of sizes) expect(size).toBeGreaterThan(0);
    } finally {
      cluster.disconnect();
    }
  }, 120_000);

  it("cancels a running job: the cancel reaches the worker holding it through the cluster's pub/sub", async () => {
    const client = llmqClient(stack);
    await client.faults([{ match: { model: 'forever' }, fault: 'hang' }]);
    const { body } = await client.submit({
      type: 'chat',
      request: { model: 'openai/forever', messages: [{ role: 'user', content: 'hang' }] },
    });
    const id = String(body.id);
    await expect.poll(async () => (await client.stats()).hanging, { timeout: 20_000 }).toBe(1);
    const canceled = await client.cancel(id);
    expect(canceled.status).toBe(200);
    // The worker closed the provider connection.
    await expect.poll(async () => (await client.stats()).hanging, { timeout: 10_000 }).toBe(0);
    expect((await client.waitForEnd(id, 5_000)).status).toBe('canceled');
  }, 60_000);
});
