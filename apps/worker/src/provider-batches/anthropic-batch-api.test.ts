import { randomUUID } from 'node:crypto';
import { Anthropic } from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ANTHROPIC_DEFAULT_MAX_TOKENS, createAnthropicProvider, toAnthropicRequest } from '@llmq/core';
import { createSimulator, type Simulator } from '@llmq/simulator';
import { AnthropicBatchApi } from './anthropic-batch-api.js';
import { batchOf, chatRequestOf, expectAnswersOfSyncCalls, sampleRequests } from './__fixtures__/batch-api-checks.js';
import type { BatchLineOutcome } from './provider-batch-api.js';

const MODEL_ID = 'claude-haiku-4-5';
const KEY = 'sk-ant-simulator-test';

let simulator: Simulator;
let url: string;
let api: AnthropicBatchApi;
beforeAll(async () => {
  simulator = createSimulator({ batchProcessingMs: 50 });
  ({ url } = await simulator.listen(0));
  const client = new Anthropic({ apiKey: KEY, baseURL: url, maxRetries: 0 });
  api = new AnthropicBatchApi(client, { defaultMaxTokens: ANTHROPIC_DEFAULT_MAX_TOKENS });
});
afterEach(() => {
  simulator.setFaults([]);
  simulator.configure({ batchProcessingMs: 50 });
});
afterAll(() => simulator.close());

const chat = chatRequestOf('anthropic', MODEL_ID);

describe('AnthropicBatchApi', () => {
  it('sends the synchronous request without its stream flag', () => {
    const request = chat('Hi.', { max_tokens: 20, stop: 'END' });
    const { stream, ...params } = toAnthropicRequest(request, {
      modelId: MODEL_ID,
      defaultMaxTokens: ANTHROPIC_DEFAULT_MAX_TOKENS,
    }).params;
    expect(stream).toBe(true);
    const body = api.chatLine(request, MODEL_ID);
    expect(body).toEqual({ params, jsonObject: false });
    expect(body.params).not.toHaveProperty('stream');
  });

  it('answers each line as the synchronous adapter answers the same request', async () => {
    // The samples, and a json_object request (answered from a forced tool).
    const requests = [...sampleRequests(chat), chat('Answer in JSON.', { response_format: { type: 'json_object' } })];
    const { state, outcomes } = await batchOf(api, MODEL_ID, requests);
    expect(state).toEqual({ ended: true, status: 'completed' });
    const model = createAnthropicProvider({ apiKey: KEY, baseURL: url }).chatModel(MODEL_ID);
    await expectAnswersOfSyncCalls(outcomes, requests, model);
    // The json_object answer is the forced tool's input, as content; the real tool call stays one.
    expect(outcomes[3]).toMatchObject({ result: { choices: [{ finish_reason: 'stop' }] } });
    expect(outcomes[2]).toMatchObject({ result: { choices: [{ finish_reason: 'tool_calls' }] } });
  });

  it("maps a line's error as a synchronous call's: the same kinds", async () => {
    simulator.setFaults([
      { match: { contains: 'QUOTA-GONE' }, fault: 'insufficient_quota' },
      { match: { contains: 'SLOW-DOWN' }, fault: '429' },
      { match: { contains: 'BROKEN' }, fault: '500' },
      { match: { contains: 'BUSY' }, fault: '503' },
    ]);
    const { outcomes } = await batchOf(api, MODEL_ID, [
      chat('QUOTA-GONE'),
      chat('SLOW-DOWN'),
      chat('BROKEN'),
      chat('BUSY'),
    ]);
    const kinds = outcomes.map((line) => (line.kind === 'error' ? [line.error.kind, line.error.status] : line.kind));
    expect(kinds).toEqual([
      ['quota_exceeded', 400],
      ['rate_limit', 429],
      ['provider_error', 500],
      ['overloaded', 529],
    ]);
  });

  it('cannot find a batch by its intent: Message Batches carry no metadata', async () => {
    await batchOf(api, MODEL_ID, [chat('Not findable.')]);
    expect(await api.findByIntent()).toBeNull();
  });

  it('a canceled batch ends cancelled and yields none of the lines it never ran', async () => {
    simulator.configure({ batchProcessingMs: 60_000 });
    const lines = [{ customId: 'line-0', body: api.chatLine(chat('Never answered.'), MODEL_ID) }];
    const batchId = await api.create({ modelId: MODEL_ID, lines, intent: randomUUID() });
    await api.cancel(batchId);
    await expect.poll(async () => api.state(batchId)).toEqual({ ended: true, status: 'cancelled' });
    const outcomes: BatchLineOutcome[] = [];
    for await (const outcome of api.results(batchId, `anthropic/${MODEL_ID}`)) outcomes.push(outcome);
    expect(outcomes).toEqual([]);
  });

  it('refuses a request Anthropic cannot honour, as the synchronous adapter does', () => {
    expect(() => api.chatLine(chat('Hi.', { seed: 1 }), MODEL_ID)).toThrow(/seed is not supported/);
  });
});
