import Anthropic from '@anthropic-ai/sdk';
import type { MessageBatch, MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from './server.js';

let simulator: Simulator;
let client: Anthropic;
beforeAll(async () => {
  simulator = createSimulator({ batchProcessingMs: 50 });
  const { url } = await simulator.listen(0);
  client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: url, maxRetries: 0 });
});
afterEach(() => {
  simulator.reset();
  simulator.configure({ batchProcessingMs: 50, batchExpiryMs: 24 * 3600_000 });
});
afterAll(() => simulator.close());

function params(content: string) {
  return { model: 'claude-haiku-4-5', max_tokens: 200, messages: [{ role: 'user' as const, content }] };
}

async function waitForEnd(id: string, seen: Set<string> = new Set()): Promise<MessageBatch> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const batch = await client.messages.batches.retrieve(id);
    seen.add(batch.processing_status);
    if (batch.processing_status === 'ended') return batch;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`batch ${id} did not end`);
}

async function results(id: string): Promise<MessageBatchIndividualResponse[]> {
  const lines: MessageBatchIndividualResponse[] = [];
  for await (const line of await client.messages.batches.results(id)) lines.push(line);
  return lines;
}

describe('Anthropic Message Batches through the Anthropic SDK', () => {
  it('answers each request exactly as POST /v1/messages answers it', async () => {
    simulator.configure({ batchProcessingMs: 400 });
    const requests = [
      { custom_id: 'first', params: params('Summarise Hamlet.') },
      { custom_id: 'second', params: { ...params('Name a colour.'), system: 'Be brief.' } },
    ];
    const created = await client.messages.batches.create({ requests });
    expect(created).toMatchObject({
      type: 'message_batch',
      processing_status: 'in_progress',
      request_counts: { processing: 2, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: null,
      results_url: null,
    });
    expect(created.id).toMatch(/^msgbatch_/);
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(24 * 3600_000);
    const seen = new Set<string>();
    const batch = await waitForEnd(created.id, seen);
    expect(batch.request_counts).toEqual({ processing: 0, succeeded: 2, errored: 0, canceled: 0, expired: 0 });
    expect(batch.ended_at).not.toBeNull();
    expect(batch.results_url).toMatch(new RegExp(`/v1/messages/batches/${created.id}/results$`));

    const lines = await results(created.id);
    expect(lines.map((line) => line.custom_id)).toEqual(['first', 'second']);
    for (const [index, line] of lines.entries()) {
      const sync = await client.messages.create(requests[index]?.params ?? params(''));
      expect(line.result).toEqual({ type: 'succeeded', message: sync });
    }
    expect(simulator.stats().batches.anthropic).toMatchObject({
      created: 1,
      linesSubmitted: 2,
      distinctCustomIds: 2,
      resubmittedCustomIds: [],
      lines: { succeeded: 2 },
    });
    expect(simulator.batchSubmissions('anthropic')).toEqual({ first: 1, second: 1 });
  });

  it('reports errored requests: an injected fault by marker and invalid params', async () => {
    simulator.setFaults([{ match: { path: '/v1/messages', contains: 'OVERLOAD-ME' }, fault: '529' }]);
    const batch = await client.messages.batches.create({
      requests: [
        { custom_id: 'ok', params: params('Hello') },
        { custom_id: 'marked', params: params('Please OVERLOAD-ME') },
        {
          custom_id: 'invalid',
          params: { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'x' }] } as never,
        },
      ],
    });
    const ended = await waitForEnd(batch.id);
    expect(ended.request_counts).toMatchObject({ succeeded: 1, errored: 2 });
    const lines = await results(batch.id);
    expect(lines[0]?.result.type).toBe('succeeded');
    expect(lines[1]?.result).toMatchObject({
      type: 'errored',
      error: { type: 'error', error: { type: 'overloaded_error' } },
    });
    expect(lines[2]?.result).toMatchObject({
      type: 'errored',
      error: {
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') },
      },
    });
  });

  it('honours a cancel mid-processing: canceling, then ended with the rest canceled', async () => {
    simulator.configure({ batchProcessingMs: 2000 });
    const requests = Array.from({ length: 10 }, (_, index) => ({
      custom_id: `r${index}`,
      params: params(`Q${index}`),
    }));
    const batch = await client.messages.batches.create({ requests });
    let current = await client.messages.batches.retrieve(batch.id);
    while (current.request_counts.succeeded < 2) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      current = await client.messages.batches.retrieve(batch.id);
    }
    const canceling = await client.messages.batches.cancel(batch.id);
    expect(canceling.processing_status).toBe('canceling');
    expect(canceling.cancel_initiated_at).not.toBeNull();
    const ended = await waitForEnd(batch.id);
    expect(ended.request_counts.succeeded).toBeGreaterThanOrEqual(2);
    expect(ended.request_counts.canceled).toBeGreaterThan(0);
    expect(ended.request_counts.succeeded + ended.request_counts.canceled).toBe(10);
    const lines = await results(batch.id);
    expect(lines.filter((line) => line.result.type === 'canceled')).toHaveLength(ended.request_counts.canceled);
  });

  it('expires requests still unanswered at the expiry time', async () => {
    simulator.configure({ batchProcessingMs: 0, batchExpiryMs: 300 });
    simulator.setFaults([{ match: { contains: 'STUCK' }, fault: 'hang' }]);
    const batch = await client.messages.batches.create({
      requests: [
        { custom_id: 'done', params: params('Fine') },
        { custom_id: 'stuck', params: params('STUCK forever') },
      ],
    });
    const ended = await waitForEnd(batch.id);
    expect(ended.request_counts).toMatchObject({ succeeded: 1, expired: 1, processing: 0 });
    expect((await results(batch.id)).map((line) => line.result.type)).toEqual(['succeeded', 'expired']);
  });

  it('refuses bad batches with Anthropic errors: limits, duplicates, unknown ids', async () => {
    const duplicate = client.messages.batches.create({
      requests: [
        { custom_id: 'same', params: params('a') },
        { custom_id: 'same', params: params('b') },
      ],
    });
    await expect(duplicate).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(client.messages.batches.create({ requests: [] })).rejects.toThrow(/at least 1 item/);
    await expect(
      client.messages.batches.create({ requests: [{ custom_id: 'has space', params: params('a') }] }),
    ).rejects.toThrow(/custom_id/);
    const tooMany = Array.from({ length: 100_001 }, (_, index) => ({ custom_id: `c${index}`, params: { model: 'm' } }));
    await expect(client.messages.batches.create({ requests: tooMany as never })).rejects.toThrow(/at most 100000/);
    await expect(client.messages.batches.retrieve('msgbatch_missing')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    expect(simulator.stats().batches.anthropic.linesSubmitted).toBe(0);
  });

  it('lists newest first with cursors, and deletes an ended batch', async () => {
    const first = await client.messages.batches.create({ requests: [{ custom_id: 'a', params: params('a') }] });
    await expect(client.messages.batches.delete(first.id)).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    const second = await client.messages.batches.create({ requests: [{ custom_id: 'b', params: params('b') }] });
    const listed: string[] = [];
    for await (const batch of client.messages.batches.list({ limit: 1 })) listed.push(batch.id);
    expect(listed).toEqual([second.id, first.id]);
    await waitForEnd(first.id);
    expect(await client.messages.batches.delete(first.id)).toEqual({ id: first.id, type: 'message_batch_deleted' });
    await expect(client.messages.batches.retrieve(first.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});
