import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { toFile } from 'openai';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { batchJobId } from '../../apps/api/src/openai-compat/batches/batch-job-id.js';
import { checkedOpenAi } from '../support/checked-openai.js';

let stack: Stack;
let alpha: OpenAI;
let beta: OpenAI;
const problems: string[] = [];

beforeAll(async () => {
  // gpt-4.1 is held to one call a minute: a batch of it stays unfinished long enough to cancel.
  // The lines run as ordinary jobs here (provider batches: tests/e2e/provider-batches.test.ts).
  stack = await startLlmqStack({
    workers: 1,
    config: 'limits:\n  openai/gpt-4.1: { rpm: 1 }\nbatching:\n  batch_api_lines: run\n',
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

interface JobView {
  status: string;
  usage: { input_tokens: number; output_tokens: number } | null;
}

async function readJob(jobId: string): Promise<JobView> {
  const response = await fetch(`${stack.apiUrl}/v1/jobs/${jobId}`, {
    headers: { authorization: `Bearer ${stack.keys.alpha}` },
  });
  return (await response.json()) as JobView;
}

/** Waits until the first `count` lines of the batch are jobs (accepted in the background). */
async function untilJobsExist(batchId: string, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    while ((await readJob(batchJobId(batchId, index))).status === undefined) {
      await alpha.batches.retrieve(batchId);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
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
    // Answered at once: the file is checked and its lines accepted in the background.
    expect(created).toMatchObject({
      object: 'batch',
      status: 'validating',
      input_file_id: inputFileId,
      metadata: { run: 'mixed' },
      request_counts: { total: 0, completed: 0, failed: 0 },
    });

    const ended = await untilEnded(created.id);
    expect(ended.status).toBe('completed');
    expect(ended.in_progress_at).not.toBeNull();
    expect(ended.request_counts).toEqual({ total: 4, completed: 3, failed: 1 });
    // The tokens of the three succeeded lines, summed as OpenAI reports a batch's usage.
    const jobs = await Promise.all(
      (await readLines(ended.output_file_id)).map((line) => readJob(line.response?.request_id ?? '')),
    );
    const input = jobs.reduce((sum, job) => sum + (job.usage?.input_tokens ?? 0), 0);
    const outputTokens = jobs.reduce((sum, job) => sum + (job.usage?.output_tokens ?? 0), 0);
    expect(input).toBeGreaterThan(0);
    expect(ended.usage).toEqual({
      input_tokens: input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: input + outputTokens,
    });
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
    const created = await alpha.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    expect(created.status).toBe('validating');
    const batch = await untilEnded(created.id);
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
    await untilJobsExist(created.id, 5);
    const cancelling = await alpha.batches.cancel(created.id);
    expect(cancelling.status).toBe('cancelling');
    expect(cancelling.cancelling_at).not.toBeNull();
    const ended = await untilEnded(created.id);
    expect(ended.status).toBe('cancelled');
    expect(ended.cancelled_at).not.toBeNull();
    const errors = await readLines(ended.error_file_id);
    const cancelled = errors.filter((line) => line.error?.code === 'batch_cancelled');
    // rpm 1: at most one call got through before the cancel.
    expect(cancelled.length).toBeGreaterThanOrEqual(4);
    expect((ended.request_counts?.completed ?? 0) + (ended.request_counts?.failed ?? 0)).toBe(5);
    for (const line of cancelled) expect((await readJob(line.id.replace(/^batch_req_/, ''))).status).toBe('canceled');
    await expect(alpha.batches.cancel(created.id)).resolves.toMatchObject({ status: 'cancelled' });
  });

  it('cancelled while validating: no line becomes a job, each is in the error file as batch_cancelled', async () => {
    const inputFileId = await upload(
      Array.from({ length: 3 }, (_, index) => chatLine(`early-${index}`, 'openai/gpt-4o-mini')),
    );
    const created = await alpha.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    // The cancel is asked in the same turn as the create: the background work sees it before any chunk.
    const cancelling = await alpha.batches.cancel(created.id);
    expect(cancelling.status).toBe('cancelling');
    const ended = await untilEnded(created.id);
    expect(ended).toMatchObject({ status: 'cancelled', request_counts: { total: 3, completed: 0 } });
    const errors = await readLines(ended.error_file_id);
    expect(errors.map((line) => line.custom_id).sort()).toEqual(['early-0', 'early-1', 'early-2']);
    for (const line of errors) {
      expect(line).toMatchObject({ response: null, error: { code: 'batch_cancelled' } });
      // Whether its job was made before the cancel or not, none of them runs on.
      const job = await readJob(line.id.replace(/^batch_req_/, ''));
      expect([undefined, 'canceled']).toContain(job.status);
    }
  });

  it("answers another tenant's batch id like a missing one, and lists only the caller's batches", async () => {
    const inputFileId = await upload([chatLine('mine', 'openai/gpt-4o-mini')]);
    const batch = await alpha.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    await expect(beta.batches.retrieve(batch.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    // OpenAI's error body: the SDK reads its type and code.
    await expect(beta.batches.retrieve(batch.id)).rejects.toMatchObject({
      status: 404,
      type: 'invalid_request_error',
      code: 'not_found',
    });
    await expect(beta.batches.cancel(batch.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(beta.batches.retrieve('batch_nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      beta.batches.create({ input_file_id: inputFileId, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(
      alpha.batches.create({
        input_file_id: inputFileId,
        endpoint: '/v1/moderations' as '/v1/embeddings',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect((await beta.batches.list()).data.map((each) => each.id)).not.toContain(batch.id);
    const mine = [];
    for await (const each of alpha.batches.list({ limit: 2 })) mine.push(each.id);
    expect(mine[0]).toBe(batch.id);
    expect(mine.length).toBeGreaterThanOrEqual(4);
    await untilEnded(batch.id);
  });
});
