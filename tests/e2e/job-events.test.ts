import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { readEvents } from '../support/sse-client.js';

let stack: Stack;

beforeAll(async () => {
  // Slow chunks, so a job streams for a few seconds.
  stack = await startLlmqStack({ workers: 1, simulatorEnv: { SIM_CHUNK_DELAY_MS: '120' } });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const headers = () => ({ authorization: `Bearer ${stack.keys.alpha}` });

async function submitChat(content: string, maxTokens: number): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { ...headers(), 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'chat',
      request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }], max_tokens: maxTokens },
    }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

describe('GET /v1/jobs/{id}/events', () => {
  it('streams status changes and partial output before the job ends, then the result', async () => {
    const id = await submitChat('Tell me a long story about queues and buckets.', 60);
    const { status, contentType, events } = await readEvents(`${stack.apiUrl}/v1/jobs/${id}/events`, headers());
    expect(status).toBe(200);
    expect(contentType).toContain('text/event-stream');

    const deltas = events.filter((event) => event.event === 'delta');
    const last = events[events.length - 1];
    expect(last?.event).toBe('status');
    const job = last?.data as { status: string; result: { choices: Array<{ message: { content: string } }> } };
    expect(job.status).toBe('succeeded');
    // Output arrived in several pieces, all before the final status, and adds up to the result.
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.every((delta) => delta.at < (last?.at ?? 0))).toBe(true);
    const text = deltas.map((delta) => (delta.data as { text: string }).text).join('');
    expect(text.length).toBeGreaterThan(0);
    expect(job.result.choices[0]?.message.content.startsWith(text)).toBe(true);
    const offsets = deltas.map((delta) => (delta.data as { offset: number }).offset);
    expect(offsets[0]).toBe(0);
    expect(offsets).toEqual([...offsets].sort((left, right) => left - right));
  });

  it('replays the output so far to a client that joins mid-stream', async () => {
    const id = await submitChat('Another long story, please, about retries.', 60);
    // Wait until the job has streamed a while.
    await readEvents(`${stack.apiUrl}/v1/jobs/${id}/events`, headers(), (event) => event.event === 'delta');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { events } = await readEvents(`${stack.apiUrl}/v1/jobs/${id}/events`, headers());
    const deltas = events.filter((event) => event.event === 'delta');
    const job = events[events.length - 1]?.data as {
      status: string;
      result: { choices: Array<{ message: { content: string } }> };
    };
    expect(job.status).toBe('succeeded');
    expect((deltas[0]?.data as { offset: number }).offset).toBe(0);
    const text = deltas.map((delta) => (delta.data as { text: string }).text).join('');
    expect(job.result.choices[0]?.message.content.startsWith(text)).toBe(true);
    expect(text.length).toBeGreaterThan(0);
  });

  it('answers an ended job with its final status and closes', async () => {
    const id = await submitChat('short', 3);
    await fetch(`${stack.apiUrl}/v1/jobs/${id}?wait=20`, { headers: headers() });
    const { events } = await readEvents(`${stack.apiUrl}/v1/jobs/${id}/events`, headers());
    expect(events.map((event) => event.event)).toEqual(['status']);
    expect((events[0]?.data as { status: string }).status).toBe('succeeded');
  });

  it('is a 404 for another tenant', async () => {
    const id = await submitChat('mine', 3);
    const { status } = await readEvents(`${stack.apiUrl}/v1/jobs/${id}/events`, {
      authorization: `Bearer ${stack.keys.beta}`,
    });
    expect(status).toBe(404);
  });
});
