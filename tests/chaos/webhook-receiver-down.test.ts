import { Webhook } from 'standardwebhooks';
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
const REFUSING_MS = 4_000;
const FAILING_MS = 3_000;
/** Retries every 0.5-2 s: the receiver's 7 s outage is ridden out within the schedule. */
const CONFIG = `
webhooks:
  allow_cidrs: ["127.0.0.2/32"]
  retry_delays_seconds: [0.5, 1, 1, 1.5, 2, 2, 2, 2, 2, 2, 2, 2]
  timeout_seconds: 10
`;

interface JobWithWebhook {
  id: string;
  status: string;
  webhook: { status: string; deliveries: Array<{ outcome: string; status_code: number | null }> } | null;
}

let stack: Stack | undefined;
let receiver: SwitchableReceiver | undefined;

afterAll(async () => {
  await Promise.all([stack?.stop(), receiver?.close()]);
});

describe('chaos: the webhook receiver refuses connections, then answers 503, then recovers', () => {
  it('delivers every job’s webhook exactly once after dedup, without repeating an LLM call', async () => {
    [stack, receiver] = await Promise.all([
      startLlmqStack({
        config: CONFIG,
        workers: 2,
        workerEnv: { ...QUIET, ...ANY_METRICS_PORT, WORKER_CONCURRENCY: '16' },
        apiEnv: QUIET,
        simulatorEnv: { SIM_LATENCY_MS: '50' },
      }),
      startSwitchableReceiver('127.0.0.2'),
    ]);
    const running = stack;
    const endpoint = receiver;
    const headers = { authorization: `Bearer ${running.keys.alpha ?? ''}` };
    const read = async (id: string) =>
      (await (await fetch(`${running.apiUrl}/v1/jobs/${id}`, { headers })).json()) as JobWithWebhook;

    await endpoint.down();
    const webhook = { url: `${endpoint.url}/hooks/llmq` };
    const ids = await chaosClient(running).submitAll(
      Array.from({ length: JOBS }, (_, index) => chatJob(index, { webhook })),
    );
    await sleep(REFUSING_MS);
    await endpoint.failing();
    await sleep(FAILING_MS);
    await endpoint.up();

    // Until every webhook has settled: delivered, or given up on.
    const jobs = new Map<string, JobWithWebhook>();
    let pending = [...ids];
    for (const deadline = Date.now() + 90_000; pending.length > 0 && Date.now() < deadline; await sleep(500)) {
      const views = await Promise.all(pending.map(read));
      for (const view of views) jobs.set(view.id, view);
      pending = views.filter((view) => (view.webhook?.status ?? 'pending') === 'pending').map((view) => view.id);
    }

    const secret = (
      (await (await fetch(`${running.apiUrl}/v1/webhook-secret`, { headers })).json()) as {
        current: { secret: string };
      }
    ).current.secret;
    const verifier = new Webhook(secret);
    const accepted = endpoint.received.filter((delivery) => delivery.status === 200);
    const verified = accepted.filter((delivery) => {
      try {
        verifier.verify(delivery.body, delivery.headers as Record<string, string>);
        return true;
      } catch {
        return false;
      }
    });
    const acceptedIds = new Set(accepted.map((delivery) => delivery.webhookId));
    const expectedIds = new Set(ids.map((id) => `msg_${id}_succeeded`));
    const views = [...jobs.values()];
    const attempts = views.flatMap((view) => view.webhook?.deliveries ?? []);
    const refused = attempts.filter((attempt) => attempt.status_code === null).length;
    const llmCalls = await simulatorCalls(running);
    const undelivered = ids.filter((id) => jobs.get(id)?.webhook?.status !== 'delivered');
    printSummary(
      'webhook-receiver-down',
      {
        jobs: JOBS,
        lost: undelivered.length,
        duplicated: accepted.length - acceptedIds.size,
        failed: views.filter((view) => view.webhook?.status === 'failed').length,
      },
      `receiver refused connections ${REFUSING_MS / 1000} s, answered 503 ${FAILING_MS / 1000} s, then 200; ` +
        `delivery attempts ${attempts.length} (connection refused ${refused}, reached the receiver ${endpoint.received.length}: ` +
        `${tally(endpoint.received.map((delivery) => String(delivery.status)))}); distinct webhook-ids answered 200: ` +
        `${acceptedIds.size}, signatures verified ${verified.length}/${accepted.length}; LLM calls ${llmCalls}; ` +
        `job statuses ${tally(views.map((view) => view.status))}`,
    );

    expect(undelivered).toEqual([]);
    expect(acceptedIds).toEqual(expectedIds);
    expect(accepted.length).toBe(JOBS);
    expect(verified.length).toBe(accepted.length);
    expect(refused).toBeGreaterThan(0);
    expect(endpoint.received.some((delivery) => delivery.status === 503)).toBe(true);
    expect(llmCalls).toBe(JOBS);
  }, 240_000);
});
