import type { Stack } from '@llmq/devkit';
import { expectDocumentedAnswer, openApiAnswersOf } from './openapi-answers.js';

/**
 * A thin client of the llmq API and the simulator's control API, for end-to-end tests. Every
 * answer of the API is checked against the API's own /openapi.json (status, required headers,
 * body schema): a test fails on an answer the document does not describe.
 */
export function llmqClient(stack: Stack, tenant = 'alpha') {
  const authorization = `Bearer ${stack.keys[tenant] ?? ''}`;
  // Read the document now, while the API is surely up; a failed read is tried again at the first answer.
  openApiAnswersOf(stack.apiUrl).catch(() => undefined);
  const json = async (response: Response, method = 'GET') => {
    const body = (await response.json()) as Record<string, unknown>;
    const { pathname, search } = new URL(response.url);
    await expectDocumentedAnswer(stack.apiUrl, {
      method,
      path: `${pathname}${search}`,
      status: response.status,
      headers: response.headers,
      body,
    });
    return { status: response.status, body };
  };
  return {
    submit: async (body: unknown) =>
      json(
        await fetch(`${stack.apiUrl}/v1/jobs`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
        'POST',
      ),
    get: async (id: string, waitSeconds = 0) =>
      json(
        await fetch(`${stack.apiUrl}/v1/jobs/${id}${waitSeconds > 0 ? `?wait=${waitSeconds}` : ''}`, {
          headers: { authorization },
        }),
      ),
    cancel: async (id: string) =>
      json(await fetch(`${stack.apiUrl}/v1/jobs/${id}`, { method: 'DELETE', headers: { authorization } }), 'DELETE'),
    /** Waits until the job ends (or `timeoutMs` passes) and returns it. */
    waitForEnd: async (id: string, timeoutMs = 60_000): Promise<JobView> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const left = Math.max(1, Math.min(60, Math.ceil((deadline - Date.now()) / 1000)));
        const { body } = await json(
          await fetch(`${stack.apiUrl}/v1/jobs/${id}?wait=${left}`, { headers: { authorization } }),
        );
        const job = body as unknown as JobView;
        if (['succeeded', 'failed', 'canceled'].includes(job.status) || Date.now() >= deadline) return job;
      }
    },
    faults: async (rules: unknown[]) => {
      const response = await fetch(`${stack.simulatorUrl}/_sim/faults`, {
        method: 'POST',
        body: JSON.stringify(rules),
      });
      if (!response.ok) throw new Error(`simulator refused the faults: ${await response.text()}`);
    },
    stats: async () => (await (await fetch(`${stack.simulatorUrl}/_sim/stats`)).json()) as SimulatorStats,
    requests: async () =>
      ((await (await fetch(`${stack.simulatorUrl}/_sim/requests?since=0`)).json()) as { data: SimulatorRequest[] })
        .data,
    resetSimulator: async () => void (await fetch(`${stack.simulatorUrl}/_sim/reset`, { method: 'POST' })),
    configureSimulator: async (settings: Record<string, unknown>) =>
      void (await fetch(`${stack.simulatorUrl}/_sim/config`, { method: 'PUT', body: JSON.stringify(settings) })),
  };
}

export interface JobView {
  id: string;
  status: string;
  attempts: number;
  answered_by: string | null;
  account: string | null;
  usage: { input_tokens: number; output_tokens: number; cached_input_tokens?: number } | null;
  attempt_log: Array<{
    model: string;
    account?: string;
    status: string;
    started_at: number;
    duration_ms: number;
    error?: { type: string; status?: number };
  }>;
  error: { type: string; message: string; provider?: string; status?: number } | null;
  created_at: number;
  finished_at: number | null;
  waiting_for: string | null;
  result: { provider: string; model: string } | null;
}

export interface SimulatorStats {
  requests: { total: number; byModel: Record<string, number>; byStatus: Record<string, number>; rateLimited: number };
  inFlight: { current: number; peak: number };
  hanging: number;
  /** Per API key, when the simulator serves accounts (SIM_ACCOUNTS). */
  accounts: Record<
    string,
    { org: string; requests: number; rateLimited: number; promptTokens: number; cachedPromptTokens: number }
  >;
}

export interface SimulatorRequest {
  time: number;
  path: string;
  model: string;
  status: number;
  /** The service tier the request asked for, when it named one. */
  serviceTier?: string;
}
