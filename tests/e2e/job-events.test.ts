import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { openEventSource, readEvents, startTcpRelay, type ReceivedEvent } from '../support/sse-client.js';

let stack: Stack;

beforeAll(async () => {
  // Slow chunks, so a job streams for a few seconds.
  stack = await startLlmqStack({ workers: 1, simulatorEnv: { SIM_CHUNK_DELAY_MS: '120' } });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const headers = () => ({ authorization: `Bearer ${stack.keys.alpha}` });

interface Delta {
  attempt: number;
  offset: number;
  text: string;
}
interface JobObject {
  status: string;
  result: { choices: Array<{ message: { content: string } }> } | null;
}

const deltasOf = (events: ReceivedEvent[]) =>
  events.filter((event) => event.event === 'delta').map((event) => event.data as Delta);

/** Each attempt's pieces follow one another with no gap and no overlap; returns the last attempt's text. */
function expectContiguous(deltas: Delta[]): string {
  let attempt = -1;
  let text = '';
  for (const delta of deltas) {
    if (delta.attempt !== attempt) {
      expect(delta.attempt).toBeGreaterThan(attempt);
      attempt = delta.attempt;
      text = '';
    }
    expect(delta.offset).toBe(text.length);
    text += delta.text;
  }
  return text;
}

/** Event ids are `<transitions>.<attempt>.<offset>`; status events name strictly rising transitions. */
function expectStatusesOnce(events: ReceivedEvent[]): void {
  const transitions = events.filter((event) => event.event === 'status').map((event) => Number(event.id.split('.')[0]));
  expect(events.every((event) => /^\d+\.\d+\.\d+$/.test(event.id))).toBe(true);
  expect(transitions).toEqual([...new Set(transitions)].sort((left, right) => left - right));
}

async function setChunkDelay(chunkDelayMs: number): Promise<void> {
  const response = await fetch(`${stack.simulatorUrl}/_sim/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chunkDelayMs }),
  });
  expect(response.status).toBe(200);
}

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
    expectContiguous(deltasOf(events));
    expectStatusesOnce(events);
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

  it('an EventSource client gets every event once, then stops for good after the end', async () => {
    const id = await submitChat('A story for a browser, please.', 40);
    const client = openEventSource(`${stack.apiUrl}/v1/jobs/${id}/events`, headers());
    await client.closed;
    expect(client.source.readyState).toBe(client.source.CLOSED);
    const last = client.events[client.events.length - 1];
    expect(last?.event).toBe('status');
    const job = last?.data as JobObject;
    expect(job.status).toBe('succeeded');
    const text = expectContiguous(deltasOf(client.events));
    expect(text.length).toBeGreaterThan(0);
    expect(job.result?.choices[0]?.message.content.startsWith(text)).toBe(true);
    expectStatusesOnce(client.events);
    // The server closed after the final status; the client came back once with its last id and
    // was told 204: no more to come.
    expect(client.requests).toEqual([
      { lastEventId: null, status: 200 },
      { lastEventId: last?.id, status: 204 },
    ]);
    // Past the client's reconnect interval (3 s): it asked for nothing more.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect(client.requests).toHaveLength(2);
  }, 30_000);

  it('a connection cut mid-stream resumes from Last-Event-ID, with nothing repeated or lost', async () => {
    const relay = await startTcpRelay(stack.apiUrl);
    // Slower chunks: the job must still be streaming when the client comes back (3 s later).
    await setChunkDelay(400);
    try {
      const id = await submitChat('Tell me a long story about queues and buckets.', 60);
      const client = openEventSource(`${relay.url}/v1/jobs/${id}/events`, headers());
      await expect.poll(() => deltasOf(client.events).length, { timeout: 20_000 }).toBeGreaterThan(2);
      const before = client.events.length;
      const lastBefore = client.events[before - 1];
      relay.cut();
      await client.closed;

      const resumed = client.requests.find((request, index) => index > 0 && request.status === 200);
      expect(resumed?.lastEventId).toBe(lastBefore?.id);
      const job = client.events[client.events.length - 1]?.data as JobObject;
      expect(job.status).toBe('succeeded');
      // The resumed connection carried on where the first stopped, and the job was still running.
      expect(deltasOf(client.events.slice(before)).length).toBeGreaterThan(0);
      const text = expectContiguous(deltasOf(client.events));
      expect(job.result?.choices[0]?.message.content.startsWith(text)).toBe(true);
      expectStatusesOnce(client.events);
      expect(client.requests[client.requests.length - 1]?.status).toBe(204);
    } finally {
      await setChunkDelay(120);
      await relay.close();
    }
  }, 40_000);

  it("a Last-Event-ID that is not one of the stream's ids is a 400 naming it", async () => {
    const id = await submitChat('short', 3);
    for (const lastEventId of ['abc', '1.2', '-1.0.0', '999.0.0']) {
      const response = await fetch(`${stack.apiUrl}/v1/jobs/${id}/events`, {
        headers: { ...headers(), 'last-event-id': lastEventId },
      });
      expect(response.status, lastEventId).toBe(400);
      const body = (await response.json()) as { error: { type: string; message: string } };
      expect(body.error.type).toBe('invalid_request');
      expect(body.error.message).toMatch(/^Last-Event-ID: /);
    }
  });

  it('is a 404 for another tenant', async () => {
    const id = await submitChat('mine', 3);
    const { status } = await readEvents(`${stack.apiUrl}/v1/jobs/${id}/events`, {
      authorization: `Bearer ${stack.keys.beta}`,
    });
    expect(status).toBe(404);
  });
});
