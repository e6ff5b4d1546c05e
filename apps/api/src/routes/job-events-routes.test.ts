import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { JobLifecycle, partialOutputKey, PartialOutputWriter } from '@llmq/core';
import {
  openEventSource,
  readEvents,
  type EventSourceRun,
  type ReceivedEvent,
} from '../../../../tests/support/sse-client.js';
import { chatSubmission, startTestApi, TEST_KEYS, type TestApi } from '../__fixtures__/test-api.js';

const test = redisTest.extend('api', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const api = await startTestApi({ redisUrl });
  onCleanup(() => api.close());
  return api;
});

const authorization = { authorization: `Bearer ${TEST_KEYS.a}` };

async function queuedJob(api: TestApi): Promise<string> {
  const created = await api.call('/v1/jobs', { method: 'POST', body: JSON.stringify(chatSubmission('events')) });
  expect(created.status).toBe(202);
  return String(created.body?.id);
}

/** Writes `text` of `attempt` as the worker does and waits until it is in Redis (and published). */
async function stream(api: TestApi, writer: PartialOutputWriter, jobId: string, attempt: number, text: string) {
  const before = (await api.redis.get(partialOutputKey('a', jobId, attempt))) ?? '';
  writer.write(text);
  await expect.poll(() => api.redis.get(partialOutputKey('a', jobId, attempt))).toBe(before + text);
}

const statuses = (events: ReceivedEvent[]) =>
  events.filter((event) => event.event === 'status').map((event) => (event.data as { status: string }).status);
const deltas = (events: ReceivedEvent[]) =>
  events.filter((event) => event.event === 'delta').map((event) => [event.id, event.data]);

describe('GET /v1/jobs/{id}/events', () => {
  test('clients that connect while the job starts see each status once, in order', async ({ api }) => {
    const lifecycle = new JobLifecycle(api.store);
    for (let round = 0; round < 3; round += 1) {
      const jobId = await queuedJob(api);
      // Clients connect one after another while the job starts, so for some the start lands
      // between their subscription and their first read: they see it both ways, and must send it once.
      const clients: EventSourceRun[] = [];
      let started: Promise<unknown> | undefined;
      for (let index = 0; index < 40; index += 1) {
        clients.push(openEventSource(`${api.base}/v1/jobs/${jobId}/events`, authorization));
        if (index === 20) started = lifecycle.start({ tenant: 'a', jobId, at: Date.now(), modelIndex: 0 });
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await started;
      await expect.poll(() => clients.every((client) => statuses(client.events).includes('running'))).toBe(true);
      expect((await api.call(`/v1/jobs/${jobId}`, { method: 'DELETE' })).status).toBe(200);
      await expect.poll(() => clients.every((client) => statuses(client.events).includes('canceled'))).toBe(true);
      for (const client of clients) {
        expect([
          ['queued', 'running', 'canceled'],
          ['running', 'canceled'],
        ]).toContainEqual(statuses(client.events));
      }
      for (const client of clients) {
        const ids = client.events.map((event) => event.id);
        expect(new Set(ids).size).toBe(ids.length);
      }
      // Closed after the end: the one reconnect of each was told 204.
      await Promise.all(clients.map((client) => client.closed));
      for (const client of clients) expect(client.requests.map((request) => request.status)).toEqual([200, 204]);
    }
  });

  test('Last-Event-ID resumes output and status where the client stopped', async ({ api }) => {
    const lifecycle = new JobLifecycle(api.store);
    const jobId = await queuedJob(api);
    const url = `${api.base}/v1/jobs/${jobId}/events`;
    await lifecycle.start({ tenant: 'a', jobId, at: Date.now(), modelIndex: 0 });
    const first = new PartialOutputWriter({ redis: api.redis, tenant: 'a', jobId, attempt: 1, flushIntervalMs: 1 });
    await stream(api, first, jobId, 1, 'Hello, ');

    // A new client gets the status (1 transition so far), then the output so far.
    const fresh = await readEvents(url, authorization, (event) => event.event === 'delta');
    expect(fresh.events.map((event) => [event.event, event.id])).toEqual([
      ['status', '1.0.0'],
      ['delta', '1.1.7'],
    ]);
    expect(fresh.events[1]?.data).toEqual({ attempt: 1, offset: 0, text: 'Hello, ' });

    // One that had 3 characters gets the rest, then live output; no status it already has.
    let live: Promise<void> | undefined;
    const partway = await readEvents(url, { ...authorization, 'last-event-id': '1.1.3' }, (event) => {
      // Once the replay is in, the stream is subscribed: more output goes to it live.
      if (event.id === '1.1.7') live = stream(api, first, jobId, 1, 'world');
      return event.id === '1.1.12';
    });
    await live;
    expect(deltas(partway.events)).toEqual([
      ['1.1.7', { attempt: 1, offset: 3, text: 'lo, ' }],
      ['1.1.12', { attempt: 1, offset: 7, text: 'world' }],
    ]);
    expect(statuses(partway.events)).toEqual([]);
    await first.close();

    // The attempt fails and a second begins. A client that follows it live gets the second
    // attempt's text from its start, and nothing of the first passed off as the second's.
    const follower = openEventSource(url, authorization);
    await expect.poll(() => deltas(follower.events).length).toBe(1);
    expect(await lifecycle.requeue({ tenant: 'a', jobId, attempt: failedAttempt(), modelIndex: 0 })).toBe(true);
    await lifecycle.start({ tenant: 'a', jobId, at: Date.now(), modelIndex: 0 });
    // The requeue and the start may come as one status (the job as it was when read): the last
    // one is the second attempt's.
    const lastStatus = () => follower.events.filter((event) => event.event === 'status').at(-1);
    await expect.poll(() => (lastStatus()?.data as { attempts: number }).attempts).toBe(2);
    expect(lastStatus()?.id).toBe('3.1.12');
    const second = new PartialOutputWriter({ redis: api.redis, tenant: 'a', jobId, attempt: 2, flushIntervalMs: 1 });
    await second.begin();
    await stream(api, second, jobId, 2, 'Again');
    await second.close();
    await expect.poll(() => deltas(follower.events).length).toBe(2);
    follower.source.close();
    expect(deltas(follower.events)).toEqual([
      ['1.1.12', { attempt: 1, offset: 0, text: 'Hello, world' }],
      ['3.2.5', { attempt: 2, offset: 0, text: 'Again' }],
    ]);

    // A client of the first attempt gets the new status (3 transitions) and the second attempt's
    // output from its start.
    const retried = await readEvents(
      url,
      { ...authorization, 'last-event-id': '1.1.12' },
      (event) => event.event === 'delta',
    );
    expect(retried.events.map((event) => [event.event, event.id])).toEqual([
      ['status', '3.1.12'],
      ['delta', '3.2.5'],
    ]);
    expect((retried.events[0]?.data as { attempts: number }).attempts).toBe(2);
    expect(retried.events[1]?.data).toEqual({ attempt: 2, offset: 0, text: 'Again' });

    // The end: a client without it gets the final status and the stream closes; a client with it
    // gets 204 (an EventSource stops on it).
    expect((await api.call(`/v1/jobs/${jobId}`, { method: 'DELETE' })).status).toBe(200);
    const ending = await readEvents(url, { ...authorization, 'last-event-id': '3.2.5' });
    expect(ending.events.map((event) => [event.event, event.id, statuses([event])[0]])).toEqual([
      ['status', '4.2.5', 'canceled'],
    ]);
    const after = await fetch(url, { headers: { ...authorization, 'last-event-id': '4.2.5' } });
    expect(after.status).toBe(204);
    expect(await after.text()).toBe('');
  });

  test('a Last-Event-ID that this stream never sent is a 400 naming it', async ({ api }) => {
    const jobId = await queuedJob(api);
    for (const [lastEventId, message] of [
      ['x', 'Last-Event-ID: must be an id this stream sent, <transitions>.<attempt>.<offset> such as "3.1.120"'],
      ['1.2', 'Last-Event-ID: must be an id this stream sent, <transitions>.<attempt>.<offset> such as "3.1.120"'],
      ['7.0.0', `Last-Event-ID: names transition 7, but job "${jobId}" has made 0`],
    ] as const) {
      const response = await api.call(`/v1/jobs/${jobId}/events`, { headers: { 'last-event-id': lastEventId } });
      expect(response.status, lastEventId).toBe(400);
      expect(response.body).toEqual({ error: { type: 'invalid_request', message } });
    }
  });
});

function failedAttempt() {
  return {
    model: 'openai/gpt-4o-mini',
    status: 'failed' as const,
    started_at: Date.now() / 1000,
    duration_ms: 5,
    error: { type: 'overloaded' as const, message: '503' },
  };
}
