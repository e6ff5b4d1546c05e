import { connect } from 'node:net';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { readEvents } from '../../../../tests/support/sse-client.js';
import { chatSubmission, startTestApi, TEST_KEYS, type TestApi } from '../__fixtures__/test-api.js';
import { HttpDrain } from './http-drain.js';
import { serverTimeoutOptions } from './server-timeouts.js';

// Short limits, so the test sees them bite: 0.5 s for headers, 1 s for a whole request.
const timeouts = serverTimeoutOptions({ headersTimeoutMs: 500, requestTimeoutMs: 1_000, keepAliveTimeoutMs: 400 });

const test = redisTest.extend('api', async ({ redisUrl }, { onCleanup }) => {
  const api = await startTestApi({ redisUrl, serverOptions: timeouts });
  onCleanup(() => api.close());
  return api;
});

const authorization = { authorization: `Bearer ${TEST_KEYS.a}` };

async function queuedJob(api: TestApi): Promise<string> {
  const created = await api.call('/v1/jobs', { method: 'POST', body: JSON.stringify(chatSubmission()) });
  return String(created.body?.id);
}

describe('server timeouts', () => {
  test('long answers outlive the request timeout: it only bounds receiving the request', async ({ api }) => {
    const id = await queuedJob(api);
    const started = Date.now();
    const waited = await api.call(`/v1/jobs/${id}?wait=2`);
    expect(waited.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
  });

  test('a client that never finishes its headers is cut off after the headers timeout', async ({ api }) => {
    const socket = connect(Number(new URL(api.base).port), '127.0.0.1');
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const started = Date.now();
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });
});

describe('HttpDrain', () => {
  test('ends event streams, lets requests in flight finish, then closes', async ({ api }) => {
    const drain = new HttpDrain(api.server);
    const id = await queuedJob(api);
    const stream = readEvents(`${api.base}/v1/jobs/${id}/events`, authorization);
    const waiting = api.call(`/v1/jobs/${id}?wait=1`);
    await expect.poll(() => drain.inFlight).toBe(2);

    const started = Date.now();
    const result = await drain.close({ graceMs: 5_000 });
    expect(result).toEqual({ drained: true, closedStreams: 1 });
    const streamed = await stream;
    expect(streamed.events.map((event) => event.event)).toEqual(['status']);
    const waited = await waiting;
    expect(waited.status).toBe(200);
    expect(waited.headers.get('connection')).toBe('close');
    expect(Date.now() - started).toBeLessThan(2_500);
    await expect(fetch(`${api.base}/healthz`)).rejects.toThrow();
  });

  test('cuts what is left when the grace period runs out', async ({ api }) => {
    const drain = new HttpDrain(api.server);
    const id = await queuedJob(api);
    const waiting = api.call(`/v1/jobs/${id}?wait=10`).then(
      () => 'answered',
      () => 'cut',
    );
    await expect.poll(() => drain.inFlight).toBe(1);
    expect(await drain.close({ graceMs: 200 })).toEqual({ drained: false, closedStreams: 0 });
    expect(await waiting).toBe('cut');
  });
});
