import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, simulatedEmbedding, type Simulator } from '@llmq/simulator';
import { ProviderError } from '../provider-error.js';
import { estimateEmbeddingTokens } from './google-embedding-model.js';
import { createGoogleProvider } from './google-provider.js';

let simulator: Simulator;
let baseURL: string;

beforeAll(async () => {
  simulator = createSimulator();
  ({ url: baseURL } = await simulator.listen(0));
});
afterAll(() => simulator.close());
beforeEach(() => simulator.reset());

const MODEL = 'gemini-embedding-001';
const BATCH_PATH = `/v1beta/models/${MODEL}:batchEmbedContents`;
const call = { timeoutMs: 5_000 };

function embeddingModel() {
  const model = createGoogleProvider({ apiKey: 'k', baseURL }).embeddingModel?.(MODEL);
  if (model === undefined) throw new Error('the google provider has no embedding model');
  return model;
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('GoogleEmbeddingModel through @google/genai', () => {
  it('embeds in input order through one batchEmbedContents call, tokens estimated', async () => {
    const inputs = ['alpha', 'beta gamma', 'delta'];
    const answer = await embeddingModel().doEmbed(inputs, { dimensions: 8 }, call);
    expect(answer.embeddings).toEqual(inputs.map((input) => simulatedEmbedding(MODEL, input, 8)));
    expect(answer.promptTokens).toBe(estimateEmbeddingTokens(inputs));
    expect(answer.promptTokens).toBe(2 + 3 + 2);
    expect(simulator.stats().requests.byPath[BATCH_PATH]).toBe(1);
  });

  it('returns 250 inputs complete and in order when split into calls of maxEmbeddingsPerCall', async () => {
    const model = embeddingModel();
    expect(model.maxEmbeddingsPerCall).toBe(100);
    const inputs = Array.from({ length: 250 }, (_, index) => `document number ${index}`);
    const embeddings: number[][] = [];
    // As the worker does: chunks of maxEmbeddingsPerCall, concatenated in order.
    for (let start = 0; start < inputs.length; start += model.maxEmbeddingsPerCall) {
      const chunk = inputs.slice(start, start + model.maxEmbeddingsPerCall);
      embeddings.push(...(await model.doEmbed(chunk, { dimensions: 4 }, call)).embeddings);
    }
    expect(embeddings).toEqual(inputs.map((input) => simulatedEmbedding(MODEL, input, 4)));
    expect(simulator.stats().requests.byPath[BATCH_PATH]).toBe(3);
  });

  it('refuses user and oversized batches without a request, and maps errors like chat does', async () => {
    const model = embeddingModel();
    expect(await failure(model.doEmbed(['x'], { user: 'u-1' }, call))).toMatchObject({ kind: 'invalid_request' });
    const tooMany = Array.from({ length: 101 }, () => 'x');
    expect(await failure(model.doEmbed(tooMany, {}, call))).toMatchObject({ kind: 'invalid_request' });
    expect(simulator.stats().requests.total).toBe(0);

    simulator.setFaults([{ fault: '429', retry_after_ms: 50, count: 1 }]);
    expect(await failure(model.doEmbed(['x'], {}, call))).toMatchObject({
      provider: 'google',
      kind: 'rate_limit',
      status: 429,
      retryAfterMs: 50,
    });
  });
});
