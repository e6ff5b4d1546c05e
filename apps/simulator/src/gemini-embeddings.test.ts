import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator, TEST_API_KEY } from './__fixtures__/running-simulator.js';
import { simulatedEmbedding } from './embedding-generator.js';

let running: RunningSimulator;
let gemini: GoogleGenAI;
beforeAll(async () => {
  running = await startSimulator();
  gemini = new GoogleGenAI({
    apiKey: TEST_API_KEY,
    vertexai: false,
    httpOptions: { baseUrl: running.url, retryOptions: { attempts: 1 } },
  });
});
afterAll(() => running.close());

const MODEL = 'gemini-embedding-001';

async function post(path: string, payload: unknown) {
  const response = await fetch(`${running.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': TEST_API_KEY },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const request = (text: string, model = `models/${MODEL}`) => ({ model, content: { parts: [{ text }] } });

describe('Gemini embeddings', () => {
  it('answers batchEmbedContents, which the SDK calls for embedContent, in input order', async () => {
    const inputs = ['alpha', 'beta gamma', 'delta'];
    const answer = await gemini.models.embedContent({
      model: MODEL,
      contents: inputs.map((text) => ({ role: 'user', parts: [{ text }] })),
      config: { outputDimensionality: 16 },
    });
    expect(answer.embeddings?.map((embedding) => embedding.values)).toEqual(
      inputs.map((input) => simulatedEmbedding(MODEL, input, 16)),
    );
    expect(running.simulator.stats().requests.byPath[`/v1beta/models/${MODEL}:batchEmbedContents`]).toBe(1);
  });

  it('refuses more than 100 requests in one batch, and a model that differs from the URL', async () => {
    const tooMany = await post(`/v1beta/models/${MODEL}:batchEmbedContents`, {
      requests: Array.from({ length: 101 }, (_, index) => request(`text ${index}`)),
    });
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body)).toContain('at most 100 requests');
    const mismatch = await post(`/v1beta/models/${MODEL}:batchEmbedContents`, {
      requests: [request('x', 'models/other-model')],
    });
    expect(mismatch.status).toBe(400);
    expect(JSON.stringify(mismatch.body)).toContain('requests[0].model');
  });

  it('answers embedContent with one vector', async () => {
    const answer = await post(`/v1beta/models/${MODEL}:embedContent`, {
      content: { parts: [{ text: 'solo' }] },
      outputDimensionality: 4,
    });
    expect(answer).toEqual({ status: 200, body: { embedding: { values: simulatedEmbedding(MODEL, 'solo', 4) } } });
  });
});
