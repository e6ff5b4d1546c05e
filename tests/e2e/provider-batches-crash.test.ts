import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type AppProcess, type Stack } from '@llmq/devkit';
import { llmqClient, type SimulatorRequest } from '../support/llmq-client.js';
import { PrometheusMetrics } from '../support/prometheus-text.js';

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
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const chat = (content: string) => ({
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }], max_tokens: 20 },
});
const deferrable = (content: string) => ({ ...chat(content), completion_window: '24h' });
async function submit(body: unknown): Promise<string> {
  const submitted = await client.submit(body);
  expect(submitted.status).toBe(202);
  return String(submitted.body.id);
}
const job = async (id: string) => (await client.get(id)).body as unknown as BatchedJob;
const submissions = async () =>
  (
    (await (await fetch(`${stack.simulatorUrl}/_sim/batch-submissions?provider=openai`)).json()) as {
      submissions: Record<string, number>;
    }
  ).submissions;
const alive = (worker: AppProcess) => worker.process.exitCode === null && worker.process.signalCode === null;

const scrapeWorkers = async () =>
  new PrometheusMetrics(
    await Promise.all(
      stack.workerMetricsUrls.map(async (url) => {
        const response = await fetch(url);
        expect(response.status).toBe(200);
        return response.text();
      }),
    ),
  );

describe("the batch path's metrics", () => {
  it('count ends by path, batches sent with their sizes and times, and what the batch price saved', async () => {
    const ids = await Promise.all(
      ['alpha', 'beta', 'gamma', 'delta'].map((word) => submit(deferrable(`Metric ${word}.`))),
    );
    const syncId = await submit(chat('Metric, right now.'));
    const ended = (await Promise.all(ids.map((id) => client.waitForEnd(id, 60_000)))) as unknown as BatchedJob[];
    expect(ended.map((each) => each.status)).toEqual(ids.map(() => 'succeeded'));
    expect((await client.waitForEnd(syncId, 60_000)).status).toBe('succeeded');
    const batches = new Set(ended.map((each) => each.provider_batch?.id));

    // Each end is counted once by some worker's end dispatcher: poll until both are in.
    await expect.poll(async () => (await scrapeWorkers()).value('llmq_job_path_total'), { timeout: 10_000 }).toBe(5);
    const scraped = await scrapeWorkers();
    expect(scraped.value('llmq_job_path_total', { path: 'batch' })).toBe(4);
    expect(scraped.value('llmq_job_path_total', { path: 'sync' })).toBe(1);
    expect(scraped.value('llmq_provider_batches_sent_total', { provider: 'openai' })).toBe(batches.size);
    expect(scraped.count('llmq_provider_batch_requests', { provider: 'openai' })).toBe(batches.size);
    expect(scraped.sum('llmq_provider_batch_requests', { provider: 'openai' })).toBe(4);
    expect(scraped.count('llmq_provider_batch_duration_seconds', { provider: 'openai', status: 'completed' })).toBe(
      batches.size,
    );
    const saved = ended.reduce((total, each) => total + (each.saved_usd ?? 0), 0);
    expect(saved).toBeGreaterThan(0);
    expect(scraped.value('llmq_batch_saved_usd_total', { model: 'openai/gpt-4o-mini' })).toBeCloseTo(saved, 9);
    expect(scraped.value('llmq_cache_saved_usd_total')).toBe(0);
  }, 90_000);
});

describe('a worker that sent a provider batch is SIGKILLed while the batch runs', () => {
  it('every job still ends succeeded from that batch: no synchronous call, each job submitted once', async () => {
    const started = Date.now();
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, index) => submit(deferrable(`Crash-safe summary ${index}.`))),
    );
    await expect
      .poll(async () => (await Promise.all(ids.map(job))).filter((each) => each.provider_batch === null).length, {
        timeout: 20_000,
        interval: 100,
      })
      .toBe(0);

    // Every worker that sent one of the batches dies at once, its state in Redis as it left it.
    const batchIds = new Set((await Promise.all(ids.map(job))).map((each) => each.provider_batch?.id ?? ''));
    const senders = stack.workers.filter(
      (worker) =>
        alive(worker) &&
        worker.lines.some(
          (line) => line.includes('provider batch sent') && [...batchIds].some((batchId) => line.includes(batchId)),
        ),
    );
    expect(senders.length).toBeGreaterThan(0);
    await Promise.all(senders.map((sender) => sender.stop('SIGKILL')));
    if (!stack.workers.some(alive)) await stack.addWorker();

    const ended = (await Promise.all(ids.map((id) => client.waitForEnd(id, 150_000)))) as unknown as BatchedJob[];
    expect(ended.filter((each) => each.status !== 'succeeded')).toEqual([]);
    // Answered by the batch: at its price, and never called on their own.
    for (const each of ended) expect(each.saved_usd ?? 0).toBeGreaterThan(0);
    const chatCalls = (await client.requests()).filter(
      (request: SimulatorRequest) => request.path === '/v1/chat/completions' && request.time >= started,
    );
    expect(chatCalls).toEqual([]);
    const submitted = await submissions();
    expect(ids.map((id) => submitted[id])).toEqual(ids.map(() => 1));
  }, 180_000);
});
