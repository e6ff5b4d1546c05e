import { countTokens } from 'gpt-tokenizer';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator, TEST_API_KEY } from './__fixtures__/running-simulator.js';
import { simulatedEmbedding } from './embedding-generator.js';
import { DEFAULT_EMBEDDING_DIMENSIONS, MAX_EMBEDDING_INPUTS } from './openai-embeddings.js';

let running: RunningSimulator;
beforeAll(async () => {
  running = await startSimulator();
});
afterAll(() => running.close());

const model = 'text-embedding-3-small';
const inputs = ['The quick brown fox', 'jumped over', 'the lazy dog, twice!'];

function length(vector: readonly number[]): number {
  return Math.hypot(...vector);
}

describe('POST /v1/embeddings through the openai SDK', () => {
  it('serves the SDK default call (base64 on the wire) with the deterministic vectors', async () => {
    const response = await running.client.embeddings.create({ model, input: inputs });
    expect(response.object).toBe('list');
    expect(response.model).toBe(model);
    expect(response.data.map((item) => item.index)).toEqual([0, 1, 2]);
    response.data.forEach((item, index) => {
      expect(item.object).toBe('embedding');
      expect(Array.from(item.embedding)).toEqual(
        simulatedEmbedding(model, inputs[index] ?? '', DEFAULT_EMBEDDING_DIMENSIONS),
      );
      expect(length(Array.from(item.embedding))).toBeCloseTo(1, 5);
    });
    const tokens = inputs.reduce((sum, input) => sum + countTokens(input), 0);
    expect(response.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it('serves encoding_format "float" with identical numbers', async () => {
    const asFloat = await running.client.embeddings.create({ model, input: inputs, encoding_format: 'float' });
    const asDefault = await running.client.embeddings.create({ model, input: inputs });
    expect(asFloat.data.map((item) => Array.from(item.embedding))).toEqual(
      asDefault.data.map((item) => Array.from(item.embedding)),
    );
  });

  it('sends base64 float32 when asked explicitly', async () => {
    const response = await fetch(`${running.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: 'hello', encoding_format: 'base64', dimensions: 4 }),
    });
    const body = (await response.json()) as { data: { embedding: string }[] };
    const bytes = Buffer.from(body.data[0]?.embedding ?? '', 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
    expect(decoded).toEqual(simulatedEmbedding(model, 'hello', 4));
  });

  it('takes a single string, honours dimensions, and differs by model and text', async () => {
    const response = await running.client.embeddings.create({ model, input: 'hello', dimensions: 32 });
    expect(response.data).toHaveLength(1);
    expect(response.data[0]?.embedding).toHaveLength(32);
    expect(simulatedEmbedding(model, 'hello', 8)).not.toEqual(simulatedEmbedding('other-model', 'hello', 8));
    expect(simulatedEmbedding(model, 'hello', 8)).not.toEqual(simulatedEmbedding(model, 'hullo', 8));
    expect(simulatedEmbedding(model, 'hello', 8)).toEqual(simulatedEmbedding(model, 'hello', 8));
  });

  it(`rejects more than ${MAX_EMBEDDING_INPUTS} inputs and empty input with a 400`, async () => {
    const tooMany = Array.from({ length: MAX_EMBEDDING_INPUTS + 1 }, (_, index) => `text ${index}`);
    const error = await running.client.embeddings.create({ model, input: tooMany }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input');

    const empty = await running.client.embeddings.create({ model, input: '' }).catch((caught: unknown) => caught);
    expect(empty).toBeInstanceOf(OpenAI.BadRequestError);

    const exactly = Array.from({ length: MAX_EMBEDDING_INPUTS }, (_, index) => `text ${index}`);
    const accepted = await running.client.embeddings.create({ model, input: exactly });
    expect(accepted.data).toHaveLength(MAX_EMBEDDING_INPUTS);
    expect(accepted.data[2047]?.index).toBe(2047);
  });
});
