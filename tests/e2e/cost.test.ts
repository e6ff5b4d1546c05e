import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { llmqClient } from '../support/llmq-client.js';

interface PricedJob {
  id: string;
  status: string;
  answered_by: string | null;
  usage: { input_tokens: number; output_tokens: number } | null;
  cost_usd: number | null;
  saved_usd: number | null;
  cost_unknown_reason: string | null;
  cached: string | null;
}

interface UsageFigures {
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  saved_usd: number;
  cache_hits: number;
  unpriced_charges: number;
}

/** The price table by hand, USD per million tokens (input, output): built-in list prices, and one from the config. */
const PRICES: Record<string, [number, number]> = {
  'openai/gpt-4o-mini': [0.15, 0.6],
  'anthropic/claude-haiku-4-5': [1, 5],
  'google/gemini-2.5-flash': [0.3, 2.5],
  'openai/gpt-4.1-nano': [0.2, 0.8],
  'openai/text-embedding-3-small': [0.02, 0],
};
const BUDGET_USD = 0.001;

let stack: Stack;
let alpha: ReturnType<typeof llmqClient>;
let beta: ReturnType<typeof llmqClient>;

beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 1,
    config: [
      'providers:',
      '  local: { type: openai-compatible, base_url: "{simulator}/v1" }',
      'prices:',
      '  openai/gpt-4.1-nano: { input: 0.2, output: 0.8 }',
      'budgets:',
      `  beta: ${BUDGET_USD}`,
    ].join('\n'),
  });
  alpha = llmqClient(stack, 'alpha');
  beta = llmqClient(stack, 'beta');
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const nano = (usd: number | null) => Math.round((usd ?? 0) * 1e9);
const chat = (model: string, content: string, extra: Record<string, unknown> = {}) => ({
  type: 'chat',
  request: { model, messages: [{ role: 'user', content }], max_tokens: 40 },
  ...extra,
});

async function run(client: ReturnType<typeof llmqClient>, body: unknown): Promise<PricedJob> {
  const submitted = await client.submit(body);
  expect(submitted.status).toBe(202);
  return (await client.waitForEnd(String(submitted.body.id), 20_000)) as unknown as PricedJob;
}

async function usage(client: 'alpha' | 'beta', query: string) {
  const response = await fetch(`${stack.apiUrl}/v1/usage?${query}`, {
    headers: { authorization: `Bearer ${stack.keys[client] ?? ''}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as UsageFigures & {
    data: Array<UsageFigures & { model?: string; day?: string }>;
    budget: { budget_usd: number; spent_usd: number; reserved_usd: number } | null;
  };
}

describe('costs', () => {
  const jobs: PricedJob[] = [];

  it('prices a mixed run exactly as a hand computation from the price table', async () => {
    await alpha.faults([{ match: { model: 'broke' }, fault: 'insufficient_quota' }]);
    const bodies = [
      chat('openai/gpt-4o-mini', 'Tell me a fact about owls.'),
      chat('openai/gpt-4o-mini', 'Tell me a fact about cats.', { cache: { mode: 'exact' } }),
      chat('anthropic/claude-haiku-4-5', 'Tell me a fact about bats.'),
      chat('google/gemini-2.5-flash', 'Tell me a fact about eels.'),
      chat('openai/gpt-4.1-nano', 'Tell me a fact about ants.'),
      { type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: ['one fact', 'two facts'] } },
    ];
    jobs.push(...(await Promise.all(bodies.map((body) => run(alpha, body)))));
    for (const job of jobs) {
      expect(job.status).toBe('succeeded');
      const [input, output] = PRICES[job.answered_by ?? ''] ?? [NaN, NaN];
      const usageOf = job.usage ?? { input_tokens: 0, output_tokens: 0 };
      const expected =
        usageOf.input_tokens * Math.round(input * 1000) + usageOf.output_tokens * Math.round(output * 1000);
      expect(nano(job.cost_usd)).toBe(expected);
      expect(job.cost_usd).toBe(expected / 1e9);
      expect(job.saved_usd).toBe(0);
    }

    const unpriced = await run(alpha, chat('local/llama-3.1-8b', 'Tell me a fact about yaks.'));
    expect(unpriced).toMatchObject({ status: 'succeeded', cost_usd: null });
    expect(unpriced.cost_unknown_reason).toContain('local/llama-3.1-8b');

    const failed = await run(alpha, chat('openai/broke', 'Tell me a fact about money.'));
    expect(failed).toMatchObject({ status: 'failed', cost_usd: 0, saved_usd: 0 });

    const hit = await run(alpha, bodies[1]);
    expect(hit).toMatchObject({ cached: 'exact', cost_usd: 0, saved_usd: jobs[1]?.cost_usd });
    jobs.push(unpriced, failed, hit);
  });

  it('reports usage per model and per day that sums to the jobs exactly', async () => {
    const byModel = await usage('alpha', 'group_by=model');
    const expected = new Map<string, { input: number; output: number; cost: number; saved: number }>();
    for (const job of jobs) {
      if (job.answered_by === null) continue;
      const row = expected.get(job.answered_by) ?? { input: 0, output: 0, cost: 0, saved: 0 };
      row.input += job.usage?.input_tokens ?? 0;
      row.output += job.usage?.output_tokens ?? 0;
      row.cost += nano(job.cost_usd);
      row.saved += nano(job.saved_usd);
      expected.set(job.answered_by, row);
    }
    expect(
      Object.fromEntries(
        byModel.data.map((row) => [
          row.model,
          { input: row.input_tokens, output: row.output_tokens, cost: nano(row.cost_usd), saved: nano(row.saved_usd) },
        ]),
      ),
    ).toEqual(Object.fromEntries(expected));
    const totalCost = jobs.reduce((sum, job) => sum + nano(job.cost_usd), 0);
    expect(nano(byModel.cost_usd)).toBe(totalCost);
    expect(nano(byModel.saved_usd)).toBe(nano(jobs[1]?.cost_usd ?? 0));
    expect(byModel).toMatchObject({ cache_hits: 1, unpriced_charges: 1, budget: null });

    const byDay = await usage('alpha', 'group_by=day');
    expect(byDay.data).toHaveLength(1);
    expect(nano(byDay.data[0]?.cost_usd ?? 0)).toBe(totalCost);
    const refused = await fetch(`${stack.apiUrl}/v1/usage?from=2025-02-30`, {
      headers: { authorization: `Bearer ${stack.keys.alpha ?? ''}` },
    });
    expect(refused.status).toBe(400);
  });
});

describe('budgets', () => {
  it('refuses at the edge under concurrent submits, never drops accepted jobs, and settles to the real cost', async () => {
    // About 14 prompt tokens x $0.15/M + 100 output tokens x $0.60/M: some 16 of these fit in $0.001.
    const body = {
      type: 'chat',
      request: {
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'Count to three.' }],
        max_tokens: 100,
      },
      cache: { mode: 'off' },
    };
    // Held at the simulator, no job ends (and gives back room) while the others are submitted.
    await beta.faults([{ match: { model: 'gpt-4o-mini' }, fault: 'hold' }]);
    const answers = await Promise.all(Array.from({ length: 30 }, () => beta.submit(body)));
    await beta.faults([]);
    const accepted = answers.filter((answer) => answer.status === 202);
    const refused = answers.filter((answer) => answer.status !== 202);
    expect(refused.length).toBeGreaterThan(0);
    const error = (refused[0]?.body.error ?? {}) as { type?: string; estimate_usd?: number; budget_usd?: number };
    expect(refused.every((answer) => answer.status === 402)).toBe(true);
    expect(error).toMatchObject({ type: 'budget_exceeded', budget_usd: BUDGET_USD });
    const estimate = nano(error.estimate_usd ?? 0);
    // Exactly as many as fit: no overspend, no refusal while room was left.
    expect(accepted.length).toBe(Math.floor(nano(BUDGET_USD) / estimate));

    const ended = await Promise.all(accepted.map((answer) => beta.waitForEnd(String(answer.body.id), 20_000)));
    expect(ended.every((job) => job.status === 'succeeded')).toBe(true);
    const report = await usage('beta', '');
    const spent = ended.reduce((sum, job) => sum + nano((job as unknown as PricedJob).cost_usd), 0);
    expect(report.budget).toMatchObject({ budget_usd: BUDGET_USD, reserved_usd: 0 });
    expect(nano(report.budget?.spent_usd ?? 0)).toBe(spent);
    expect(spent).toBeLessThanOrEqual(nano(BUDGET_USD));
    // The answers cost less than their estimates: the room given back takes new jobs.
    const again = await beta.submit(body);
    expect(again.status).toBe(202);
    await beta.waitForEnd(String(again.body.id), 20_000);
  });

  it('gives a canceled job its reservation back', async () => {
    await beta.faults([{ match: { model: 'gpt-4o-mini' }, fault: 'hold' }]);
    const reserved = async () => nano((await usage('beta', '')).budget?.reserved_usd ?? 0);
    const before = await reserved();
    const submitted = await beta.submit({
      type: 'chat',
      request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Wait for me.' }], max_tokens: 100 },
    });
    expect(submitted.status).toBe(202);
    expect(await reserved()).toBeGreaterThan(before);
    expect((await beta.cancel(String(submitted.body.id))).status).toBe(200);
    expect(await reserved()).toBe(before);
    await beta.faults([]);
  });
});
