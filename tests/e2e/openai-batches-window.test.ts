import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { checkedOpenAi } from '../support/checked-openai.js';
import { PrometheusMetrics } from '../support/prometheus-text.js';

const WINDOW_SECONDS = 5;
let stack: Stack;
let alpha: OpenAI;
let beta: OpenAI;
const problems: string[] = [];

beforeAll(async () => {
  // A window of a few seconds; gpt-4.1 is held to one call a minute, so its lines outlast it.
  // beta's budget fits no line that may write 16,000 tokens.
  stack = await startLlmqStack({
    workers: 1,
    apiEnv: { LLMQ_BATCH_WINDOW_SECONDS: String(WINDOW_SECONDS) },
    config: [
      'limits:',
      '  openai/gpt-4.1: { rpm: 1 }',
      'budgets:',
      '  beta: 0.001',
      'batching:',
      '  batch_api_lines: run',
    ].join('\n'),
  });
  alpha = checkedOpenAi(stack, 'alpha', problems).client;
  beta = checkedOpenAi(stack, 'beta', problems).client;
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});
afterEach(() => {
  expect(problems).toEqual([]);
  problems.length = 0;
});

const chatLine = (customId: string, model: string, maxTokens = 20) => ({
  custom_id: customId,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model, messages: [{ role: 'user', content: `Say hi for ${customId}` }], max_tokens: maxTokens },
});

async function createBatch(client: OpenAI, lines: unknown[]): Promise<OpenAI.Batches.Batch> {
  const file = await client.files.create({
    file: await toFile(Buffer.from(`${lines.map((line) => JSON.stringify(line)).join('\n')}\n`), 'input.jsonl'),
    purpose: 'batch',
  });
  return client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
}

async function untilEnded(client: OpenAI, id: string): Promise<OpenAI.Batches.Batch> {
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (['completed', 'failed', 'cancelled', 'expired'].includes(batch.status)) return batch;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function readLines(client: OpenAI, fileId: string | null | undefined) {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map(
      (line) =>
        JSON.parse(line) as {
          id: string;
          custom_id: string;
          response: { status_code: number; body: { error?: { type: string; code: string } } } | null;
          error: { code: string } | null;
        },
    );
}

const scrape = async () => new PrometheusMetrics(await (await fetch(`${stack.apiUrl}/metrics`)).text());

describe('the completion window (LLMQ_BATCH_WINDOW_SECONDS)', () => {
  it('expires a batch whose jobs outlast it: finished lines in the output file, the rest batch_expired', async () => {
    const created = await createBatch(alpha, [
      chatLine('fast', 'openai/gpt-4o-mini'),
      ...Array.from({ length: 4 }, (_, index) => chatLine(`slow-${index}`, 'openai/gpt-4.1')),
    ]);
    expect(created.expires_at).toBe(created.created_at + WINDOW_SECONDS);
    const ended = await untilEnded(alpha, created.id);
    expect(ended.status).toBe('expired');
    expect(ended.expired_at).toBeGreaterThanOrEqual(created.created_at + WINDOW_SECONDS);
    const output = await readLines(alpha, ended.output_file_id);
    const errors = await readLines(alpha, ended.error_file_id);
    expect(output.map((line) => line.custom_id)).toContain('fast');
    // rpm 1: at most one gpt-4.1 call got through in the window; the others were canceled.
    const expired = errors.filter((line) => line.error?.code === 'batch_expired');
    expect(expired.length).toBeGreaterThanOrEqual(3);
    expect(output.length + errors.length).toBe(5);
    expect(ended.request_counts).toEqual({ total: 5, completed: output.length, failed: errors.length });
    for (const line of expired) {
      const job = await fetch(`${stack.apiUrl}/v1/jobs/${line.id.replace(/^batch_req_/, '')}`, {
        headers: { authorization: `Bearer ${stack.keys.alpha}` },
      });
      expect(((await job.json()) as { status: string }).status).toBe('canceled');
    }
    expect((await scrape()).value('llmq_batches_ended_total', { status: 'expired' })).toBe(1);
  });
});

describe("a batch over the tenant's budget", () => {
  it('puts the lines the budget refuses in the error file with 402 budget_exceeded, and makes no job of them', async () => {
    const created = await createBatch(
      beta,
      Array.from({ length: 3 }, (_, index) => chatLine(`costly-${index}`, 'openai/gpt-4o-mini', 16_000)),
    );
    const ended = await untilEnded(beta, created.id);
    expect(ended).toMatchObject({ status: 'completed', request_counts: { total: 3, completed: 0, failed: 3 } });
    expect(ended.output_file_id).toBeNull();
    const errors = await readLines(beta, ended.error_file_id);
    expect(errors.map((line) => line.custom_id).sort()).toEqual(['costly-0', 'costly-1', 'costly-2']);
    for (const line of errors) {
      expect(line.response).toMatchObject({
        status_code: 402,
        body: { error: { type: 'insufficient_quota', code: 'budget_exceeded' } },
      });
      const job = await fetch(`${stack.apiUrl}/v1/jobs/${line.id.replace(/^batch_req_/, '')}`, {
        headers: { authorization: `Bearer ${stack.keys.beta}` },
      });
      expect(job.status).toBe(404);
    }
    const metrics = await scrape();
    expect(metrics.value('llmq_batches_created_total')).toBeGreaterThanOrEqual(2);
    expect(metrics.value('llmq_batch_lines_total', { outcome: 'failed' })).toBeGreaterThanOrEqual(3);
  });
});
