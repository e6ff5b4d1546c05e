import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAIEmbeddingModel } from '@llmq/core';
import { createSimulator, simulatedEmbedding, type Simulator } from '@llmq/simulator';
import { runEmbeddingJob } from './run-embedding-job.js';

let simulator: Simulator;
let client: OpenAI;

beforeAll(async () => {
  simulator = createSimulator();
  const { url } = await simulator.listen(0);
  client = new OpenAI({ apiKey: 'sk-test', baseURL: `${url}/v1`, maxRetries: 0 });
});
afterAll(() => simulator.close());

describe('runEmbeddingJob', () => {
  it('splits inputs into calls of the provider batch size and reassembles them in order', async () => {
    const model = new OpenAIEmbeddingModel({
      provider: 'openai',
      modelId: 'text-embedding-3-small',
      client,
      maxEmbeddingsPerCall: 3,
    });
    const inputs = Array.from({ length: 10 }, (_, index) => `sentence number ${index}`);
    const before = simulator.stats().requests.total;
    const outcome = await runEmbeddingJob(
      { type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: inputs, dimensions: 8 } },
      model,
      { timeoutMs: 5_000 },
    );
    expect(simulator.stats().requests.total - before).toBe(4);
    expect(outcome.result.data.map((item) => item.index)).toEqual(inputs.map((_, index) => index));
    expect(outcome.result.data.map((item) => item.embedding)).toEqual(
      inputs.map((input) => simulatedEmbedding('text-embedding-3-small', input, 8)),
    );
    expect(outcome.result).toMatchObject({
      object: 'list',
      model: 'openai/text-embedding-3-small',
      provider: 'openai',
    });
    expect(outcome.usage.input_tokens).toBe(outcome.result.usage.prompt_tokens);
    expect(outcome.usage.input_tokens).toBeGreaterThan(inputs.length);
  });
});
