import { expect } from 'vitest';
import type { Stack } from '@llmq/devkit';
import { documentedCall } from '../support/documented-call.js';

/** The config of the webhook end-to-end stacks: receivers on 127.0.0.2 only, a schedule in tenths of seconds. */
export const WEBHOOK_STACK_CONFIG = `
webhooks:
  allow_cidrs: ["127.0.0.2/32"]
  retry_delays_seconds: [0.2, 0.3, 0.3]
  timeout_seconds: 2
`;

export interface JobWithWebhook {
  id: string;
  status: string;
  webhook: {
    url: string;
    status: 'pending' | 'delivered' | 'failed' | 'gone';
    deliveries: Array<{
      attempt: number;
      attempted_at: number;
      outcome: string;
      status_code: number | null;
      duration_ms: number;
      error: string | null;
    }>;
  } | null;
}

/** A small client of the stack's API for tenant alpha. */
export function apiClient(stack: Stack) {
  const call = (path: string, init: RequestInit = {}) => documentedCall(stack, path, init);
  const submit = (webhookUrl: string, content = 'Hello') =>
    call('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({
        type: 'chat',
        request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }], max_tokens: 20 },
        webhook: { url: webhookUrl },
      }),
    });
  /** The job once its webhook settled (or reached one of `statuses`). */
  const settled = async (id: string, statuses = ['delivered', 'failed', 'gone']) => {
    let job: JobWithWebhook | undefined;
    await expect
      .poll(
        async () => {
          job = (await call(`/v1/jobs/${id}`)).body as unknown as JobWithWebhook;
          return job.webhook?.status;
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBeOneOf(statuses);
    if (job === undefined) throw new Error('no job');
    return job;
  };
  const simulatorCalls = async () => {
    const stats = (await (await fetch(`${stack.simulatorUrl}/_sim/stats`)).json()) as { requests: { total: number } };
    return stats.requests.total;
  };
  return { call, submit, settled, simulatorCalls };
}
