import OpenAI from 'openai';
import { createSimulator, type Simulator } from '../server.js';
import type { SimulatorOptions } from '../simulator-options.js';

/** A simulator listening on a free port, with an SDK client pointed at it. */
export interface RunningSimulator {
  simulator: Simulator;
  /** Root URL, e.g. http://127.0.0.1:43121 (control routes live under it). */
  url: string;
  /** SDK client with retries off: the tests assert on single attempts. */
  client: OpenAI;
  /** Another client for the same simulator, e.g. with a different key or timeout. */
  clientWith(options: { apiKey?: string; timeout?: number }): OpenAI;
  /** JSON from a control route. */
  control(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

export const TEST_API_KEY = 'sk-simulator-test';

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const simulator = createSimulator(options);
  const { url } = await simulator.listen(0);
  const clientWith = (clientOptions: { apiKey?: string; timeout?: number }) =>
    new OpenAI({
      apiKey: clientOptions.apiKey ?? TEST_API_KEY,
      baseURL: `${url}/v1`,
      maxRetries: 0,
      timeout: clientOptions.timeout ?? 10_000,
    });
  return {
    simulator,
    url,
    client: clientWith({}),
    clientWith,
    async control(method, path, body) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as unknown };
    },
    close: () => simulator.close(),
  };
}
