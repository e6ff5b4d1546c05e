import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGoogleClient, createGoogleProvider } from '@llmq/core';
import { createSimulator, type Simulator } from '@llmq/simulator';
import { GoogleBatchApi } from './google-batch-api.js';
import { batchOf, chatRequestOf, expectAnswersOfSyncCalls, sampleRequests } from './__fixtures__/batch-api-checks.js';
import type { BatchLineOutcome } from './provider-batch-api.js';

const MODEL_ID = 'gemini-2.5-flash';
const KEY = 'gemini-simulator-test';

let simulator: Simulator;
let url: string;
let api: GoogleBatchApi;
beforeAll(async () => {
  simulator = createSimulator({ batchProcessingMs: 50 });
  ({ url } = await simulator.listen(0));
  api = new GoogleBatchApi(createGoogleClient({ apiKey: KEY, baseURL: url }));
});
afterEach(() => {
  simulator.setFaults([]);
  simulator.configure({ batchProcessingMs: 50 });
});
afterAll(() => simulator.close());

const chat = chatRequestOf('google', MODEL_ID);

describe('GoogleBatchApi', () => {
  it('answers each line as the synchronous adapter answers the same request', async () => {
    const requests = sampleRequests(chat);
    const { state, outcomes } = await batchOf(api, MODEL_ID, requests);
    expect(state).toEqual({ ended: true, status: 'completed' });
    await expectAnswersOfSyncCalls(
      outcomes,
      requests,
      createGoogleProvider({ apiKey: KEY, baseURL: url }).chatModel(MODEL_ID),
    );
    expect(outcomes[2]).toMatchObject({ result: { choices: [{ finish_reason: 'tool_calls' }] } });
  });

  it("maps a line's error as a synchronous call's: the same kinds", async () => {
    simulator.setFaults([
      { match: { contains: 'QUOTA-GONE' }, fault: 'insufficient_quota' },
      { match: { contains: 'SLOW-DOWN' }, fault: '429' },
      { match: { contains: 'BROKEN' }, fault: '500' },
    ]);
    const { outcomes } = await batchOf(api, MODEL_ID, [chat('QUOTA-GONE'), chat('SLOW-DOWN'), chat('BROKEN')]);
    const kinds = outcomes.map((line) => (line.kind === 'error' ? [line.error.kind, line.error.status] : line.kind));
    expect(kinds).toEqual([
      ['quota_exceeded', 429],
      ['rate_limit', 429],
      ['provider_error', 500],
    ]);
  });

  it('finds a batch by the intent it was created with', async () => {
    const intent = randomUUID();
    const { batchId } = await batchOf(api, MODEL_ID, [chat('Find me.')], intent);
    await batchOf(api, MODEL_ID, [chat('Another batch.')]);
    expect(await api.findByIntent(intent)).toBe(batchId);
    expect(await api.findByIntent(randomUUID())).toBeNull();
  });

  it('a canceled batch ends cancelled and yields none of the lines it never ran', async () => {
    simulator.configure({ batchProcessingMs: 60_000 });
    const lines = [{ customId: 'line-0', body: api.chatLine(chat('Never answered.')) }];
    const batchId = await api.create({ modelId: MODEL_ID, lines, intent: randomUUID() });
    await api.cancel(batchId);
    await expect.poll(async () => api.state(batchId)).toEqual({ ended: true, status: 'cancelled' });
    const outcomes: BatchLineOutcome[] = [];
    for await (const outcome of api.results(batchId, `google/${MODEL_ID}`)) outcomes.push(outcome);
    expect(outcomes).toEqual([]);
  });

  it('refuses a request Gemini cannot honour, as the synchronous adapter does', () => {
    expect(() => api.chatLine(chat('Hi.', { user: 'someone' }))).toThrow(/user is not supported/);
  });
});
