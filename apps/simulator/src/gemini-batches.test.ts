import { type BatchJob, GoogleGenAI, type InlinedRequest, JobState } from '@google/genai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from './server.js';

let simulator: Simulator;
let ai: GoogleGenAI;
beforeAll(async () => {
  simulator = createSimulator({ batchProcessingMs: 50 });
  const { url } = await simulator.listen(0);
  ai = new GoogleGenAI({
    apiKey: 'gemini-test-key',
    vertexai: false,
    httpOptions: { baseUrl: url, retryOptions: { attempts: 1 } },
  });
});
afterEach(() => {
  simulator.reset();
  simulator.configure({ batchProcessingMs: 50, batchExpiryMs: 24 * 3600_000 });
});
afterAll(() => simulator.close());

const MODEL = 'gemini-2.5-flash';
const DONE: readonly string[] = [
  JobState.JOB_STATE_SUCCEEDED,
  JobState.JOB_STATE_FAILED,
  JobState.JOB_STATE_CANCELLED,
  JobState.JOB_STATE_EXPIRED,
];

function inline(key: string, text: string): InlinedRequest {
  return {
    contents: [{ role: 'user', parts: [{ text }] }],
    config: { systemInstruction: 'Be brief.', temperature: 0.4 },
    metadata: { key },
  };
}

async function waitForEnd(name: string, seen: Set<string> = new Set()): Promise<BatchJob> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const job = await ai.batches.get({ name });
    seen.add(job.state ?? '');
    if (DONE.includes(job.state ?? '')) return job;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`batch ${name} did not end`);
}

/** The wire fields of a response, without the SDK's own `sdkHttpResponse`. */
function wireFields(response: unknown): unknown {
  const { sdkHttpResponse: _headers, ...fields } = JSON.parse(JSON.stringify(response)) as Record<string, unknown>;
  return fields;
}

describe('Gemini Batch Mode through @google/genai', () => {
  it('answers each inline request exactly as generateContent answers it', async () => {
    simulator.configure({ batchProcessingMs: 400 });
    const requests = [inline('q1', 'Summarise Hamlet.'), inline('q2', 'Name three rivers.')];
    const created = await ai.batches.create({ model: MODEL, src: requests, config: { displayName: 'nightly' } });
    expect(created.name).toMatch(/^batches\//);
    expect(created).toMatchObject({ displayName: 'nightly', model: `models/${MODEL}` });
    expect([JobState.JOB_STATE_PENDING, JobState.JOB_STATE_RUNNING]).toContain(created.state);
    const seen = new Set<string>();
    const job = await waitForEnd(created.name ?? '', seen);
    expect(job.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    expect(seen.has(JobState.JOB_STATE_RUNNING)).toBe(true);
    expect(job.endTime).toBeDefined();

    const responses = job.dest?.inlinedResponses ?? [];
    expect(responses.map((entry) => entry.metadata)).toEqual([{ key: 'q1' }, { key: 'q2' }]);
    for (const [index, entry] of responses.entries()) {
      const { metadata: _metadata, ...request } = requests[index] ?? {};
      const sync = await ai.models.generateContent({
        model: MODEL,
        contents: request.contents ?? [],
        config: request.config,
      });
      expect(entry.error).toBeUndefined();
      expect(wireFields(entry.response)).toEqual(wireFields(sync));
      // The SDK hands inline responses over as plain objects: no `text` getter.
      expect(entry.response?.candidates?.[0]?.content?.parts?.[0]?.text).toBe(sync.text);
    }
    expect(simulator.stats().batches.gemini).toMatchObject({
      created: 1,
      linesSubmitted: 2,
      distinctCustomIds: 2,
      resubmittedCustomIds: [],
      lines: { succeeded: 2 },
    });
  });

  it('answers inline embedding requests as embedContent does', async () => {
    const created = await ai.batches.createEmbeddings({
      model: 'gemini-embedding-001',
      src: { inlinedRequests: { contents: ['first text', 'second text'], config: { outputDimensionality: 4 } } },
    });
    const job = await waitForEnd(created.name ?? '');
    expect(job.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    const responses = job.dest?.inlinedEmbedContentResponses ?? [];
    expect(responses).toHaveLength(2);
    for (const [index, text] of ['first text', 'second text'].entries()) {
      const sync = await ai.models.embedContent({
        model: 'gemini-embedding-001',
        contents: text,
        config: { outputDimensionality: 4 },
      });
      expect(responses[index]?.response?.embedding?.values).toHaveLength(4);
      expect(responses[index]?.response?.embedding?.values).toEqual(sync.embeddings?.[0]?.values);
    }
  });

  it('reports a failing request in place: an injected fault by marker', async () => {
    simulator.setFaults([{ match: { contains: 'BREAK-HERE' }, fault: '500' }]);
    const created = await ai.batches.create({
      model: MODEL,
      src: [inline('a', 'Fine'), inline('b', 'BREAK-HERE please')],
    });
    const job = await waitForEnd(created.name ?? '');
    expect(job.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    const [first, second] = job.dest?.inlinedResponses ?? [];
    expect(first?.response?.candidates?.[0]?.content?.parts?.[0]?.text).toMatch(/^Simulated reply to: Fine/);
    expect(second?.error).toMatchObject({ code: 13, message: expect.stringContaining('internal error') });
    expect(second?.metadata).toEqual({ key: 'b' });
  });

  it('honours a cancel mid-processing, and expires what is left at the expiry time', async () => {
    simulator.configure({ batchProcessingMs: 2000 });
    const src = Array.from({ length: 10 }, (_, index) => inline(`c${index}`, `Question ${index}`));
    const created = await ai.batches.create({ model: MODEL, src });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await ai.batches.cancel({ name: created.name ?? '' });
    const cancelled = await waitForEnd(created.name ?? '');
    expect(cancelled.state).toBe(JobState.JOB_STATE_CANCELLED);
    const outcomes = (cancelled.dest?.inlinedResponses ?? []).map((entry) =>
      entry.response ? 'ok' : entry.error?.code,
    );
    expect(outcomes).toContain('ok');
    expect(outcomes).toContain(1);
    expect(outcomes).toHaveLength(10);

    simulator.configure({ batchProcessingMs: 0, batchExpiryMs: 300 });
    simulator.setFaults([{ match: { contains: 'STUCK' }, fault: 'hang' }]);
    const stuck = await ai.batches.create({ model: MODEL, src: [inline('x', 'Quick'), inline('y', 'STUCK here')] });
    const expired = await waitForEnd(stuck.name ?? '');
    expect(expired.state).toBe(JobState.JOB_STATE_EXPIRED);
    expect((expired.dest?.inlinedResponses ?? []).map((entry) => entry.error?.code ?? 'ok')).toEqual(['ok', 4]);
  });

  it('refuses inline requests over 20 MB and unknown batches with Google errors', async () => {
    const big = 'x'.repeat(21 * 1024 * 1024);
    await expect(ai.batches.create({ model: MODEL, src: [inline('big', big)] })).rejects.toMatchObject({ status: 400 });
    await expect(ai.batches.get({ name: 'batches/missing' })).rejects.toMatchObject({ status: 404 });
    expect(simulator.stats().batches.gemini.linesSubmitted).toBe(0);
  });

  it('lists newest first page by page, and deletes', async () => {
    const first = await ai.batches.create({ model: MODEL, src: [inline('1', 'one')] });
    const second = await ai.batches.create({ model: MODEL, src: [inline('2', 'two')] });
    const names: string[] = [];
    for await (const job of await ai.batches.list({ config: { pageSize: 1 } })) names.push(job.name ?? '');
    expect(names).toEqual([second.name, first.name]);
    await ai.batches.delete({ name: first.name ?? '' });
    await expect(ai.batches.get({ name: first.name ?? '' })).rejects.toMatchObject({ status: 404 });
  });
});
