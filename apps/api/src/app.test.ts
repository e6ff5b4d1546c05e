import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { createLlmQueue, createLogger, createModelCatalog, jobRecordKey, JobStore, llmqConfigSchema } from '@llmq/core';
import { readEvents } from '../../../tests/support/sse-client.js';
import { createApp } from './app.js';
import { JobEvents } from './job-events.js';

const KEY_A = 'key-tenant-a-0123456789';
const KEY_B = 'key-tenant-b-0123456789';

const test = redisTest.extend('api', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  const logger = createLogger({ name: 'api', level: 'silent' });
  const queue = createLlmQueue({ connection: redis });
  const store = new JobStore({ redis });
  const events = await JobEvents.start({ subscriber: new Redis(redisUrl), logger });
  const app = createApp({
    queue,
    store,
    events,
    redis,
    logger,
    config: {
      apiKeys: new Map([
        [KEY_A, 'a'],
        [KEY_B, 'b'],
      ]),
      catalog: createModelCatalog(llmqConfigSchema.parse({})),
      maxBodyBytes: 2048,
      keepAliveMs: 50,
    },
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(async () => {
    server.close();
    await events.close();
    await queue.close();
    await redis.quit();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (path: string, init: RequestInit & { key?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    if (init.key !== null) headers.set('authorization', `Bearer ${init.key ?? KEY_A}`);
    if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    const response = await fetch(`${base}${path}`, { ...init, headers });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>),
    };
  };
  return { call, store, redis, base };
});

const chatJob = JSON.stringify({
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] },
});

describe('API', () => {
  test('a job whose stored record is damaged reads as a 503 naming it, never a 500', async ({ api }) => {
    const accepted = await api.call('/v1/jobs', { method: 'POST', body: chatJob });
    const id = String(accepted.body?.id);
    await api.redis.hset(jobRecordKey('a', id), 'status', 'half-written');
    const response = await api.call(`/v1/jobs/${id}`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('60');
    expect(response.body).toEqual({
      error: { type: 'unavailable', message: `job ${id} cannot be read from the job store` },
    });
    await api.redis.hset(jobRecordKey('a', id), 'status', 'queued');
    expect((await api.call(`/v1/jobs/${id}`)).status).toBe(200);
  });

  test('accepts a job with 202, a Location and the job object', async ({ api }) => {
    const response = await api.call('/v1/jobs', { method: 'POST', body: chatJob });
    expect(response.status).toBe(202);
    const job = response.body as Record<string, unknown>;
    expect(job).toMatchObject({
      object: 'job',
      type: 'chat',
      status: 'queued',
      model: 'openai/gpt-4o-mini',
      attempts: 0,
    });
    expect(job.id).toMatch(/^job_/);
    expect(response.headers.get('location')).toBe(`/v1/jobs/${String(job.id)}`);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const read = await api.call(`/v1/jobs/${String(job.id)}`);
    expect(read.body).toEqual(job);
  });

  test('401 without a key or with a wrong one, in the one error shape', async ({ api }) => {
    for (const key of [null, 'not-a-key-0123456789']) {
      const response = await api.call('/v1/jobs', { key });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ error: { type: 'authentication', message: expect.any(String) } });
    }
    const malformed = await api.call('/v1/jobs', { key: null, headers: { authorization: 'Basic abc' } });
    expect(malformed.status).toBe(401);
  });

  test("another tenant's job answers exactly like a job that never existed", async ({ api }) => {
    const created = await api.call('/v1/jobs', { method: 'POST', body: chatJob });
    const id = String(created.body?.id);
    const foreign = await api.call(`/v1/jobs/${id}`, { key: KEY_B });
    const never = await api.call(`/v1/jobs/${id.slice(0, -4)}ZZZZ`, { key: KEY_B });
    expect(foreign.status).toBe(404);
    expect(never.status).toBe(404);
    expect(foreign.body?.error).toEqual({ type: 'not_found', message: `no job with id "${id}"` });
    expect(never.body?.error).toEqual({ type: 'not_found', message: `no job with id "${id.slice(0, -4)}ZZZZ"` });
    expect((await api.call('/v1/jobs', { key: KEY_B })).body?.data).toEqual([]);
  });

  test('invalid JSON is a 400, a body over the limit a 413, another media type a 415', async ({ api }) => {
    const invalid = await api.call('/v1/jobs', { method: 'POST', body: '{"type": "chat",' });
    expect(invalid.status).toBe(400);
    expect(invalid.body?.error).toEqual({ type: 'invalid_request', message: 'request body is not valid JSON' });
    const large = await api.call('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ type: 'chat', pad: 'x'.repeat(4000) }),
    });
    expect(large.status).toBe(413);
    expect(large.body?.error).toEqual({
      type: 'payload_too_large',
      message: 'request body is larger than the limit of 2048 bytes',
    });
    const text = await api.call('/v1/jobs', {
      method: 'POST',
      body: chatJob,
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
  });

  test('bad query parameters are 400s naming the parameter', async ({ api }) => {
    const created = await api.call('/v1/jobs', { method: 'POST', body: chatJob });
    const id = String(created.body?.id);
    expect((await api.call(`/v1/jobs/${id}?wait=61`)).body?.error).toEqual({
      type: 'invalid_request',
      message: 'query: wait: must be at most 60',
    });
    expect((await api.call(`/v1/jobs/${id}?wait=soon`)).status).toBe(400);
    expect((await api.call('/v1/jobs?status=done')).body?.error).toMatchObject({
      message: expect.stringContaining('status: must be one of'),
    });
    expect((await api.call('/v1/jobs?limit=0')).status).toBe(400);
    expect((await api.call('/v1/jobs?after=xyz')).body?.error).toMatchObject({
      message: 'query: after: must be a job id from a previous page',
    });
    expect((await api.call('/v1/jobs?color=red')).body?.error).toMatchObject({
      message: 'query: unknown field "color"',
    });
  });

  test('?wait returns as soon as the job ends, and at the deadline otherwise', async ({ api }) => {
    const created = await api.call('/v1/jobs', { method: 'POST', body: chatJob });
    const id = String(created.body?.id);
    const started = Date.now();
    const timedOut = await api.call(`/v1/jobs/${id}?wait=0.3`);
    expect(timedOut.body?.status).toBe('queued');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    const waiting = api.call(`/v1/jobs/${id}?wait=20`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const endedAt = Date.now();
    await api.store.transition({ tenant: 'a', jobId: id, to: 'failed', from: ['queued'] });
    const answer = await waiting;
    expect(answer.body?.status).toBe('failed');
    expect(Date.now() - endedAt).toBeLessThan(5_000);
  });

  test('the SSE stream of a waiting job sends its status, keep-alive comments, and the end', async ({ api }) => {
    const created = await api.call('/v1/jobs', { method: 'POST', body: chatJob });
    const id = String(created.body?.id);
    setTimeout(() => void api.store.transition({ tenant: 'a', jobId: id, to: 'canceled', from: ['queued'] }), 400);
    const stream = await readEvents(`${api.base}/v1/jobs/${id}/events`, { authorization: `Bearer ${KEY_A}` });
    expect(stream.events.map((event) => [event.event, (event.data as { status: string }).status])).toEqual([
      ['status', 'queued'],
      ['status', 'canceled'],
    ]);
    expect(stream.comments).toBeGreaterThanOrEqual(3);
  });

  test('a batch is accepted whole, in order, or refused whole naming the job and field', async ({ api }) => {
    const job = (content: string, model = 'openai/gpt-4o-mini') => ({
      type: 'chat',
      request: { model, messages: [{ role: 'user', content }] },
      metadata: { content },
    });
    const accepted = await api.call('/v1/jobs/batch', {
      method: 'POST',
      body: JSON.stringify({ jobs: [job('a'), job('b'), job('c')] }),
    });
    expect(accepted.status).toBe(202);
    const data = accepted.body?.data as Array<{ id: string; status: string; metadata: { content: string } }>;
    expect(data.map((item) => [item.status, item.metadata.content])).toEqual([
      ['queued', 'a'],
      ['queued', 'b'],
      ['queued', 'c'],
    ]);
    for (const item of data) expect((await api.call(`/v1/jobs/${item.id}`)).status).toBe(200);

    const before = ((await api.call('/v1/jobs?limit=100')).body?.data as unknown[]).length;
    const refused = await api.call('/v1/jobs/batch', {
      method: 'POST',
      body: JSON.stringify({ jobs: [job('x'), job('y', 'nope/model')] }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body?.error).toMatchObject({
      message: expect.stringContaining('jobs[1].request.model: unknown provider "nope"'),
    });
    expect(((await api.call('/v1/jobs?limit=100')).body?.data as unknown[]).length).toBe(before);
    expect((await api.call('/v1/jobs/batch', { method: 'POST', body: JSON.stringify({ jobs: [] }) })).status).toBe(400);
  });

  test('unknown routes are 404s in the one error shape', async ({ api }) => {
    const response = await api.call('/v1/nothing');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { type: 'not_found', message: 'no route for GET /v1/nothing' } });
  });

  test('healthz needs no key', async ({ api }) => {
    expect((await api.call('/healthz', { key: null })).body).toEqual({ status: 'ok' });
  });
});
