import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type AppProcess, type Stack } from '@llmq/devkit';
import { llmqClient, type SimulatorRequest } from '../support/llmq-client.js';

interface BatchedJob {
  id: string;
  status: string;
  provider_batch: { id: string; sent_at: number } | null;
  saved_usd: number | null;
}

let stack: Stack;
let client: ReturnType<typeof llmqClient>;

beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 2,
    // Short locks: a job a killed worker held is taken over in seconds.
    workerEnv: { LLMQ_LOCK_DURATION_MS: '3000', LLMQ_STALLED_INTERVAL_MS: '1500' },
    // A batch slow enough that its sender dies while the provider still works on it.
    simulatorEnv: { SIM_BATCH_PROCESSING_MS: '3000' },
    config: ['batching:', '  max_wait_s: 1', '  poll_first_s: 0.3', '  poll_max_s: 1'].join('\n'),
  });
  client = llmqClient(stack);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const deferrable = (content: string) => ({
  type: 'chat',
  completion_window: '24h',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }], max_tokens: 20 },
});
const job = async (id: string) => (await client.get(id)).body as unknown as BatchedJob;
const submissions = async () =>
  (
    (await (await fetch(`${stack.simulatorUrl}/_sim/batch-submissions?provider=openai`)).json()) as {
      submissions: Record<string, number>;
    }
  ).submissions;
const alive = (worker: AppProcess) => worker.process.exitCode === null && worker.process.signalCode === null;

describe('a worker that sent a provider batch is SIGKILLed while the batch runs', () => {
  it('every job still ends succeeded from that batch: no synchronous call, each job submitted once', async () => {
    const ids = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const submitted = await client.submit(deferrable(`Crash-safe summary ${index}.`));
        expect(submitted.status).toBe(202);
        return String(submitted.body.id);
      }),
    );
    await expect
      .poll(async () => (await Promise.all(ids.map(job))).filter((each) => each.provider_batch === null).length, {
        timeout: 20_000,
        interval: 100,
      })
      .toBe(0);

    // Every worker that sent one of the batches dies at once, its state in Redis as it left it.
    const senders = stack.workers.filter(
      (worker) => alive(worker) && worker.lines.some((line) => line.includes('provider batch sent')),
    );
    expect(senders.length).toBeGreaterThan(0);
    await Promise.all(senders.map((sender) => sender.stop('SIGKILL')));
    if (!stack.workers.some(alive)) await stack.addWorker();

    const ended = (await Promise.all(ids.map((id) => client.waitForEnd(id, 150_000)))) as unknown as BatchedJob[];
    expect(ended.filter((each) => each.status !== 'succeeded')).toEqual([]);
    // Answered by the batch: at its price, and never called on their own.
    for (const each of ended) expect(each.saved_usd ?? 0).toBeGreaterThan(0);
    const chatCalls = (await client.requests()).filter(
      (request: SimulatorRequest) => request.path === '/v1/chat/completions',
    );
    expect(chatCalls).toEqual([]);
    const submitted = await submissions();
    expect(ids.map((id) => submitted[id])).toEqual(ids.map(() => 1));
    expect(Object.keys(submitted)).toHaveLength(ids.length);
  }, 180_000);
});
