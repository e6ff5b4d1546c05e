import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { toFile } from 'openai';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { checkedOpenAi } from '../support/checked-openai.js';

let stack: Stack;
let alpha: OpenAI;
let beta: OpenAI;
const problems: string[] = [];

beforeAll(async () => {
  // gpt-4.1 is held to one call a minute: a batch of it stays unfinished long enough to cancel.
  stack = await startLlmqStack({ workers: 1, config: 'limits:\n  openai/gpt-4.1: { rpm: 1 }\n' });
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

const chatLine = (customId: string, model: string) => ({
  custom_id: customId,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model, messages: [{ role: 'user', content: `Say hi for ${customId}` }], max_tokens: 20 },
});

async function upload(lines: unknown[]): Promise<string> {
  const content = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');
  const file = await alpha.files.create({
    file: await toFile(Buffer.from(`${content}\n`), 'input.jsonl'),
    purpose: 'batch',
  });
  return file.id;
}

async function untilEnded(id: string): Promise<OpenAI.Batches.Batch> {
  for (;;) {
    const batch = await alpha.batches.retrieve(id);
    if (['completed', 'failed', 'cancelled', 'expired'].includes(batch.status)) return batch;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}

async function readLines(fileId: string | null | undefined): Promise<OutputLine[]> {
  if (!fileId) return [];
  const text = await (await alpha.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as OutputLine);
}

describe('Batch API through the OpenAI SDK', () => {
  it('runs each line as a job on its own provider; a refused body fails only its line', async () => {
    const inputFileId = await upload([
      chatLine('openai-1', 'openai/gpt-4o-mini'),
      chatLine('anthropic-1', 'anthropic/claude-haiku-4-5'),
      chatLine('unknown-model', 'nowhere/no-such-model'),
      chatLine('openai-2', 'openai/gpt-4o-mini'),
    ]);
    const created = await alpha.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { run: 'mixed' },
    });
    expect(created).toMatchObject({
      object: 'batch',
      status: 'in_progress',
      input_file_id: inputFileId,
      metadata: { run: 'mixed' },
    });
    expect(created.request_counts?.total).toBe(4);

    const ended = await untilEnded(created.id);
    expect(ended.status).toBe('completed');
    expect(ended.request_counts).toEqual({ total: 4, completed: 3, failed: 1 });
    expect(ended.completed_at).toBeGreaterThanOrEqual(ended.created_at);
    expect(ended.finalizing_at).not.toBeNull();

    const output = await readLines(ended.output_file_id);
    expect(output.map((line) => line.custom_id).sort()).toEqual(['anthropic-1', 'openai-1', 'openai-2']);
    for (const line of output) {
      expect(line.error).toBeNull();
      expect(line.response?.status_code).toBe(200);
      expect(line.response?.body).toMatchObject({ object: 'chat.completion' });
    }
    expect(output.find((line) => line.custom_id === 'anthropic-1')?.response?.body).toMatchObject({
      provider: 'anthropic',
    });
    expect(output.find((line) => line.custom_id === 'openai-1')?.response?.body).toMatchObject({ provider: 'openai' });

    const errors = await readLines(ended.error_file_id);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ custom_id: 'unknown-model', response: { status_code: 400 } });
    expect(JSON.stringify(errors[0]?.response?.body)).toContain('model');
    expect((await alpha.files.retrieve(ended.output_file_id ?? '')).purpose).toBe('batch_output');
  });

  it('runs an embeddings batch', async () => {
    const inputFileId = await upload([
      {
        custom_id: 'e1',
        method: 'POST',
        url: '/v1/embeddings',
        body: { model: 'openai/text-embedding-3-small', input: 'one' },
      },
      {
        custom_id: 'e2',
        method: 'POST',
        url: '/v1/embeddings',
        body: { model: 'openai/text-embedding-3-small', input: ['two', 'three'] },
      },
    ]);
    const created = await alpha.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/embeddings',
      completion_window: '24h',
    });
    const ended = await untilEnded(created.id);
    expect(ended.status).toBe('completed');
    const output = await readLines(ended.output_file_id);
    expect(output.map((line) => line.custom_id).sort()).toEqual(['e1', 'e2']);
    expect((output.find((line) => line.custom_id === 'e2')?.response?.body.data as unknown[]).length).toBe(2);
    expect(ended.error_file_id).toBeNull();
  });

  it('fails a bad file at validation with the errors of its lines', async () => {
    const inputFileId = await upload([
      chatLine('same', 'openai/gpt-4o-mini'),
      'not json at all',
      chatLine('same', 'openai/gpt-4o-mini'),
      { ...chatLine('other-endpoint', 'openai/gpt-4o-mini'), url: '/v1/embeddings' },
    ]);
    const batch = await alpha.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    expect(batch.status).toBe('failed');
    expect(batch.failed_at).not.toBeNull();
    expect(batch.errors?.data?.map((error) => [error.code, error.line])).toEqual([
      ['invalid_json_line', 2],
      ['duplicate_custom_id', 3],
      ['mismatched_endpoint', 4],
    ]);
    // No job was made: nothing of it runs.
    expect((await alpha.batches.retrieve(batch.id)).request_counts).toEqual({ total: 0, completed: 0, failed: 0 });
  });

  it('cancels a batch: cancelling, then cancelled, its unfinished jobs canceled', async () => {
    const inputFileId = await upload(
      Array.from({ length: 5 }, (_, index) => chatLine(`slow-${index}`, 'openai/gpt-4.1')),
    );
    const created = await alpha.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const cancelling = await alpha.batches.cancel(created.id);
    expect(['cancelling', 'cancelled']).toContain(cancelling.status);
    expect(cancelling.cancelling_at).not.toBeNull();
    const ended = await untilEnded(created.id);
    expect(ended.status).toBe('cancelled');
    expect(ended.cancelled_at).not.toBeNull();
    const errors = await readLines(ended.error_file_id);
    const cancelled = errors.filter((line) => line.error?.code === 'batch_cancelled');
    // rpm 1: at most one call got through before the cancel.
    expect(cancelled.length).toBeGreaterThanOrEqual(4);
    expect((ended.request_counts?.completed ?? 0) + (ended.request_counts?.failed ?? 0)).toBe(5);
    for (const line of cancelled) {
      const jobId = line.id.replace(/^batch_req_/, '');
      const job = await fetch(`${stack.apiUrl}/v1/jobs/${jobId}`, {
        headers: { authorization: `Bearer ${stack.keys.alpha}` },
      });
      expect(((await job.json()) as { status: string }).status).toBe('canceled');
    }
    await expect(alpha.batches.cancel(created.id)).resolves.toMatchObject({ status: 'cancelled' });
  });

  it("answers another tenant's batch id like a missing one, and lists only the caller's batches", async () => {
    const inputFileId = await upload([chatLine('mine', 'openai/gpt-4o-mini')]);
    const batch = await alpha.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    await expect(beta.batches.retrieve(batch.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(beta.batches.cancel(batch.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(beta.batches.retrieve('batch_nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      beta.batches.create({ input_file_id: inputFileId, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    expect((await beta.batches.list()).data.map((each) => each.id)).not.toContain(batch.id);
    const mine = [];
    for await (const each of alpha.batches.list({ limit: 2 })) mine.push(each.id);
    expect(mine[0]).toBe(batch.id);
    expect(mine.length).toBeGreaterThanOrEqual(4);
    await untilEnded(batch.id);
  });
});
