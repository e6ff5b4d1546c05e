import OpenAI, { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from './__fixtures__/running-simulator.js';
import type { SimulatorStats } from './stats.js';

let running: RunningSimulator;
let client: OpenAI;
beforeAll(async () => {
  running = await startSimulator({ batchProcessingMs: 50 });
  client = running.client;
});
afterEach(() => {
  running.simulator.reset();
  running.simulator.configure({ batchProcessingMs: 50, batchExpiryMs: 24 * 3600_000, batchEnqueuedTokens: null });
});
afterAll(() => running.close());

const TERMINAL = ['completed', 'failed', 'expired', 'cancelled'];

function chatLine(customId: string, content: string, model = 'gpt-4o-mini') {
  return {
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content }], temperature: 0.3 },
  };
}

async function uploadLines(lines: readonly unknown[]): Promise<string> {
  const text = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');
  const file = await client.files.create({ file: await toFile(Buffer.from(text), 'input.jsonl'), purpose: 'batch' });
  return file.id;
}

async function waitForEnd(id: string, seen: Set<string> = new Set()): Promise<Batch> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const batch = await client.batches.retrieve(id);
    seen.add(batch.status);
    if (TERMINAL.includes(batch.status)) return batch;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`batch ${id} did not end`);
}

/** One output or error file line, as OpenAI documents it. */
interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: { error: Record<string, unknown> } } | null;
  error: { code: string; message: string } | null;
}

async function fileLines(id: string | null | undefined): Promise<OutputLine[]> {
  if (!id) return [];
  const text = await (await client.files.content(id)).text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as OutputLine);
}

function withoutCreated(body: unknown): unknown {
  return { ...(body as Record<string, unknown>), created: 0 };
}

describe('OpenAI Files and Batch API through the openai SDK', () => {
  it('answers each chat line exactly as /v1/chat/completions answers it', async () => {
    running.simulator.configure({ batchProcessingMs: 400 });
    const lines = [chatLine('a', 'First question'), chatLine('b', 'Second question'), chatLine('c', 'Third')];
    const inputFileId = await uploadLines(lines);
    const file = await client.files.retrieve(inputFileId);
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', filename: 'input.jsonl', status: 'processed' });

    const created = await client.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { run: 'one' },
    });
    expect(created).toMatchObject({ object: 'batch', status: 'validating', metadata: { run: 'one' } });
    expect(created.id).toMatch(/^batch_/);
    const seen = new Set<string>([created.status]);
    const batch = await waitForEnd(created.id, seen);
    expect(batch.status).toBe('completed');
    expect(seen.has('in_progress')).toBe(true);
    expect(batch.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(batch.error_file_id).toBeNull();
    expect(batch.completed_at).toBeGreaterThanOrEqual(batch.created_at);

    const output = await fileLines(batch.output_file_id);
    expect(output.map((line) => line.custom_id)).toEqual(['a', 'b', 'c']);
    let inputTokens = 0;
    let outputTokens = 0;
    for (const [index, line] of output.entries()) {
      const sync = await client.chat.completions.create(
        lines[index]?.body as OpenAI.ChatCompletionCreateParamsNonStreaming,
      );
      expect(line.id).toMatch(/^batch_req_/);
      expect(line.error).toBeNull();
      expect(line.response?.status_code).toBe(200);
      expect(line.response?.request_id).toMatch(/^req_/);
      expect(withoutCreated(line.response?.body)).toEqual(withoutCreated(sync));
      inputTokens += sync.usage?.prompt_tokens ?? 0;
      outputTokens += sync.usage?.completion_tokens ?? 0;
    }
    expect(batch.usage).toMatchObject({ input_tokens: inputTokens, output_tokens: outputTokens });

    const stats = (await running.control('GET', '/_sim/stats')).body as SimulatorStats;
    expect(stats.batches.openai).toMatchObject({
      created: 1,
      linesSubmitted: 3,
      distinctCustomIds: 3,
      resubmittedCustomIds: [],
      lines: { succeeded: 3, errored: 0, canceled: 0, expired: 0 },
    });
    expect(stats.requests.byPath['/v1/batches/{id}']).toBeGreaterThan(0);
    const submissions = await running.control('GET', '/_sim/batch-submissions?provider=openai');
    expect(submissions.body).toEqual({ provider: 'openai', submissions: { a: 1, b: 1, c: 1 } });
  });

  it('answers embedding lines as /v1/embeddings does, and counts a resubmitted custom_id', async () => {
    const body = { model: 'text-embedding-3-small', input: ['one', 'two'], encoding_format: 'float' as const };
    const line = { custom_id: 'e1', method: 'POST', url: '/v1/embeddings', body };
    for (let round = 0; round < 2; round += 1) {
      const batch = await client.batches.create({
        input_file_id: await uploadLines([line]),
        endpoint: '/v1/embeddings',
        completion_window: '24h',
      });
      const ended = await waitForEnd(batch.id);
      const [output] = await fileLines(ended.output_file_id);
      expect(output?.response?.body).toEqual(await client.embeddings.create(body));
    }
    const stats = (await running.control('GET', '/_sim/stats')).body as SimulatorStats;
    expect(stats.batches.openai).toMatchObject({
      linesSubmitted: 2,
      distinctCustomIds: 1,
      resubmittedCustomIds: ['e1'],
    });
  });

  it('puts failing lines in the error file: an injected fault by prompt marker, and a bad body', async () => {
    await running.control('POST', '/_sim/faults', [
      { match: { path: '/v1/chat/completions', contains: 'FAIL-THIS' }, fault: '500' },
    ]);
    const lines = [
      chatLine('ok', 'A fine question'),
      chatLine('marked', 'Please FAIL-THIS one'),
      { custom_id: 'bad', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini' } },
    ];
    const batch = await client.batches.create({
      input_file_id: await uploadLines(lines),
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const ended = await waitForEnd(batch.id);
    expect(ended.status).toBe('completed');
    expect(ended.request_counts).toEqual({ total: 3, completed: 1, failed: 2 });
    const output = await fileLines(ended.output_file_id);
    expect(output.map((line) => line.custom_id)).toEqual(['ok']);
    const errors = await fileLines(ended.error_file_id);
    expect(errors.map((line) => [line.custom_id, line.response?.status_code])).toEqual([
      ['marked', 500],
      ['bad', 400],
    ]);
    expect(errors[0]?.response?.body.error.type).toBe('server_error');
    expect(errors[1]?.response?.body.error).toMatchObject({ param: 'messages', code: 'missing_required_parameter' });
  });

  it('honours a cancel mid-processing: done lines in the output file, the rest batch_cancelled', async () => {
    running.simulator.configure({ batchProcessingMs: 2000 });
    const lines = Array.from({ length: 10 }, (_, index) => chatLine(`line-${index}`, `Question ${index}`));
    const batch = await client.batches.create({
      input_file_id: await uploadLines(lines),
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    let current = await client.batches.retrieve(batch.id);
    while ((current.request_counts?.completed ?? 0) < 2) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      current = await client.batches.retrieve(batch.id);
    }
    const cancelling = await client.batches.cancel(batch.id);
    expect(cancelling.status).toBe('cancelling');
    expect(cancelling.cancelling_at).not.toBeNull();
    const ended = await waitForEnd(batch.id);
    expect(ended.status).toBe('cancelled');
    const output = await fileLines(ended.output_file_id);
    const errors = await fileLines(ended.error_file_id);
    expect(output.length).toBeGreaterThanOrEqual(2);
    expect(output.length).toBeLessThan(10);
    expect(output.length + errors.length).toBe(10);
    expect(errors[0]).toMatchObject({ response: null, error: { code: 'batch_cancelled' } });
    await expect(client.batches.cancel(batch.id)).rejects.toBeInstanceOf(OpenAI.ConflictError);
  });

  it('expires a batch still running at its expiry: unanswered lines batch_expired', async () => {
    running.simulator.configure({ batchProcessingMs: 0, batchExpiryMs: 300 });
    await running.control('POST', '/_sim/faults', [{ match: { contains: 'NEVER-ANSWER' }, fault: 'hang' }]);
    const lines = [chatLine('quick', 'Quick one'), chatLine('stuck', 'NEVER-ANSWER this')];
    const batch = await client.batches.create({
      input_file_id: await uploadLines(lines),
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const ended = await waitForEnd(batch.id);
    expect(ended.status).toBe('expired');
    expect(ended.expired_at).not.toBeNull();
    expect((await fileLines(ended.output_file_id)).map((line) => line.custom_id)).toEqual(['quick']);
    expect(await fileLines(ended.error_file_id)).toMatchObject([
      { custom_id: 'stuck', response: null, error: { code: 'batch_expired' } },
    ]);
  });

  it('fails a batch whose file breaks the rules, naming the line and code', async () => {
    const cases: Array<[unknown[], string, number | null]> = [
      [[chatLine('x', 'one'), chatLine('x', 'two')], 'duplicate_custom_id', 2],
      [[chatLine('x', 'one'), '{not json'], 'invalid_json_line', 2],
      [[{ ...chatLine('x', 'one'), url: '/v1/embeddings' }], 'url_mismatch', 1],
      [[chatLine('x', 'one'), chatLine('y', 'two', 'gpt-4o')], 'model_mismatch', 2],
      [[''], 'empty_file', null],
    ];
    for (const [lines, code, line] of cases) {
      const batch = await client.batches.create({
        input_file_id: await uploadLines(lines),
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      const ended = await waitForEnd(batch.id);
      expect(ended.status).toBe('failed');
      expect(ended.errors?.data?.[0]).toMatchObject({ code, line });
    }
  });

  it('refuses more than 50,000 requests in one file', async () => {
    const line = JSON.stringify(chatLine('id', 'hi'));
    const text = Array.from({ length: 50_001 }, (_, index) => line.replace('"id"', `"id-${index}"`)).join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(text), 'big.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const ended = await waitForEnd(batch.id);
    expect(ended.status).toBe('failed');
    expect(ended.errors?.data?.[0]?.code).toBe('too_many_tasks');
    const stats = (await running.control('GET', '/_sim/stats')).body as SimulatorStats;
    expect(stats.batches.openai.linesSubmitted).toBe(0);
  });

  it('answers OpenAI errors for unknown ids and bad parameters, and lists, retrieves and deletes', async () => {
    await expect(client.batches.retrieve('batch_missing')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      client.batches.create({
        input_file_id: 'file-missing',
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const inputFileId = await uploadLines([chatLine('a', 'hi')]);
    const badEndpoint = await client.batches
      .create({ input_file_id: inputFileId, endpoint: '/v1/images/generations', completion_window: '24h' })
      .catch((error: unknown) => error);
    expect(badEndpoint).toBeInstanceOf(OpenAI.BadRequestError);
    expect((badEndpoint as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('endpoint');
    await expect(
      client.files.create({ file: await toFile(Buffer.from('{}'), 'input.txt'), purpose: 'batch' }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);

    const first = await client.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const second = await client.batches.create({
      input_file_id: inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const listed: string[] = [];
    for await (const batch of client.batches.list({ limit: 1 })) listed.push(batch.id);
    expect(listed).toEqual([second.id, first.id]);

    const files: string[] = [];
    for await (const file of client.files.list({ purpose: 'batch' })) files.push(file.id);
    expect(files).toContain(inputFileId);
    expect(await client.files.delete(inputFileId)).toEqual({ id: inputFileId, object: 'file', deleted: true });
    await expect(client.files.retrieve(inputFileId)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.batches.list({}, { headers: { authorization: null } })).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
  });
  it('fails a batch that would take its model past the enqueued-token bound, as OpenAI does, counting only batches in progress', async () => {
    running.simulator.configure({ batchProcessingMs: 400 });
    const line = (id: string) => chatLine(id, 'count these words please, all of them');
    const oneLine = await client.batches.create({
      input_file_id: await uploadLines([line('probe')]),
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const perLine = (await waitForEnd(oneLine.id)).usage?.input_tokens ?? 0;
    expect(perLine).toBeGreaterThan(10);
    // Room for three lines in progress at once.
    running.simulator.configure({ batchEnqueuedTokens: perLine * 3 });
    const create = async (ids: string[]) =>
      client.batches.create({
        input_file_id: await uploadLines(ids.map(line)),
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
    const first = await create(['a', 'b']);
    await expect.poll(async () => (await client.batches.retrieve(first.id)).status).toBe('in_progress');
    const second = await waitForEnd((await create(['c', 'd'])).id);
    expect(second.status).toBe('failed');
    expect(second.errors?.data?.[0]).toMatchObject({ code: 'token_limit_exceeded' });
    expect(second.errors?.data?.[0]?.message).toContain(
      `Limit: ${(perLine * 3).toLocaleString('en-US')} enqueued tokens`,
    );
    // A batch that fits beside it is taken; once the first batch ends, its tokens are free again.
    expect((await waitForEnd((await create(['e'])).id)).status).toBe('completed');
    expect((await waitForEnd(first.id)).status).toBe('completed');
    expect((await waitForEnd((await create(['f', 'g', 'h'])).id)).status).toBe('completed');
    const tooMany = await waitForEnd((await create(['i', 'j', 'k', 'l'])).id);
    expect(tooMany.status).toBe('failed');
  });
});
