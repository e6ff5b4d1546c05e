import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { IdempotencyKeys } from '@llmq/core';
import { HttpError } from '../http-error.js';
import { chatSubmission, startTestApi, TEST_KEYS, type TestApi } from '../__fixtures__/test-api.js';
import { createIdempotency } from './idempotent-submission.js';

const test = redisTest.extend('api', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const api = await startTestApi({ redisUrl });
  onCleanup(() => api.close());
  return api;
});

const submit = (api: Awaited<ReturnType<typeof startTestApi>>, body: unknown, key?: string, tenantKey?: string) =>
  api.call('/v1/jobs', {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: key === undefined ? {} : { 'idempotency-key': key },
    ...(tenantKey ? { key: tenantKey } : {}),
  });

describe('Idempotency-Key on POST /v1/jobs', () => {
  test('the same key and body give the same job and status, however the JSON is written', async ({ api }) => {
    const key = randomUUID();
    const first = await submit(api, chatSubmission('same'), key);
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const rewritten = `{ "request": {"messages": [{"content": "same", "role": "user"}], "model": "openai/gpt-4o-mini"}, "type": "chat" }`;
    const again = await submit(api, rewritten, key);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('location')).toBe(`/v1/jobs/${String(first.body?.id)}`);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  test('the same key with another body is a 422 idempotency_conflict', async ({ api }) => {
    const key = randomUUID();
    expect((await submit(api, chatSubmission('one'), key)).status).toBe(202);
    const other = await submit(api, chatSubmission('two'), key);
    expect(other.status).toBe(422);
    expect(other.body).toEqual({
      error: {
        type: 'idempotency_conflict',
        message: 'Idempotency-Key: this key was used with a different request body; use a new key for a new job',
      },
    });
  });

  test('keys are per tenant', async ({ api }) => {
    const key = randomUUID();
    const a = await submit(api, chatSubmission('tenants'), key);
    const b = await submit(api, chatSubmission('tenants'), key, TEST_KEYS.b);
    expect(b.status).toBe(202);
    expect(b.body?.id).not.toBe(a.body?.id);
    expect((await api.call(`/v1/jobs/${String(a.body?.id)}`, { key: TEST_KEYS.b })).status).toBe(404);
  });

  test('50 concurrent requests with one key create exactly one job, and all 50 answer with it', async ({ api }) => {
    const key = randomUUID();
    const marker = `concurrent ${key}`;
    const answers = await Promise.all(Array.from({ length: 50 }, () => submit(api, chatSubmission(marker), key)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(202));
    const ids = new Set(answers.map((answer) => answer.body?.id));
    expect(ids.size).toBe(1);
    expect(answers.filter((answer) => answer.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    const page = await api.store.list({ tenant: 'a', limit: 100 });
    const created = page.records.filter((record) => JSON.stringify(record.submission).includes(marker));
    expect(created.map((record) => record.id)).toEqual([...ids]);
  });

  test('without a key every request is a new job; a refused body does not use the key up', async ({ api }) => {
    const first = await submit(api, chatSubmission('no key'));
    const second = await submit(api, chatSubmission('no key'));
    expect(second.body?.id).not.toBe(first.body?.id);

    const key = randomUUID();
    const refused = await submit(api, { type: 'chat', request: { model: 'openai/gpt-4o-mini' } }, key);
    expect(refused.status).toBe(400);
    expect((await submit(api, chatSubmission('after a 400'), key)).status).toBe(202);
  });

  test('a malformed key is a 400', async ({ api }) => {
    const tooLong = await submit(api, chatSubmission(), 'k'.repeat(256));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body?.error).toEqual({
      type: 'invalid_request',
      message: 'Idempotency-Key: is 256 characters long; must be 1 to 255 visible ASCII characters',
    });
  });

  test('a duplicate waits for the first request, and gives up with a 409 if it never finishes', async ({ api }) => {
    const keys = new IdempotencyKeys({ redis: api.redis });
    const idempotency = createIdempotency({ keys, store: api.store, waitMs: 150, pollMs: 10 });
    const key = randomUUID();
    const body = chatSubmission('stuck');
    const holder = await idempotency.begin({ tenant: 'a', key, body });
    expect(holder?.kind).toBe('new');
    const waiting = idempotency.begin({ tenant: 'a', key, body });
    await expect(waiting).rejects.toBeInstanceOf(HttpError);
    await expect(waiting).rejects.toMatchObject({ status: 409, type: 'conflict' });
    // The holder failed and let go: the key is free for the retry.
    if (holder?.kind === 'new') await holder.release();
    expect((await idempotency.begin({ tenant: 'a', key, body }))?.kind).toBe('new');
  });
});

describe('Idempotency-Key on POST /v1/jobs/batch', () => {
  const batch = (api: TestApi, jobs: unknown[], key?: string) =>
    api.call('/v1/jobs/batch', {
      method: 'POST',
      body: JSON.stringify({ jobs }),
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });
  const created = async (api: TestApi, marker: string) => {
    const page = await api.store.list({ tenant: 'a', limit: 100 });
    return page.records.filter((record) => JSON.stringify(record.submission).includes(marker)).length;
  };
  const idsOf = (answer: { body: Record<string, unknown> | null }) =>
    (answer.body?.data as Array<{ id: string }>).map((job) => job.id);

  test('the same key and body answer with the same jobs, in order, and create none', async ({ api }) => {
    const key = randomUUID();
    const jobs = [chatSubmission(`${key} one`), chatSubmission(`${key} two`), chatSubmission(`${key} three`)];
    const first = await batch(api, jobs, key);
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await batch(api, jobs, key);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(idsOf(again)).toEqual(idsOf(first));
    expect(again.body).toEqual(first.body);
    expect(await created(api, key)).toBe(3);
  });

  test('the same key with another body is a 422, from the batch route or the single one', async ({ api }) => {
    const key = randomUUID();
    expect((await batch(api, [chatSubmission('a'), chatSubmission('b')], key)).status).toBe(202);
    const conflict = {
      error: {
        type: 'idempotency_conflict',
        message: 'Idempotency-Key: this key was used with a different request body; use a new key for a new job',
      },
    };
    const other = await batch(api, [chatSubmission('a'), chatSubmission('c')], key);
    expect(other.status).toBe(422);
    expect(other.body).toEqual(conflict);
    const single = await submit(api, chatSubmission('a'), key);
    expect(single.status).toBe(422);
    expect(single.body).toEqual(conflict);
  });

  test('20 concurrent retries of one batch create its jobs once, and all answer with them', async ({ api }) => {
    const key = randomUUID();
    const jobs = [chatSubmission(`${key} x`), chatSubmission(`${key} y`)];
    const answers = await Promise.all(Array.from({ length: 20 }, () => batch(api, jobs, key)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(202));
    expect(new Set(answers.map((answer) => idsOf(answer).join(','))).size).toBe(1);
    expect(answers.filter((answer) => answer.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(await created(api, key)).toBe(2);
  });

  test('a refused batch does not use its key up; a malformed key is a 400', async ({ api }) => {
    const key = randomUUID();
    const refused = await batch(api, [chatSubmission('fine'), { type: 'chat' }], key);
    expect(refused.status).toBe(400);
    expect((await batch(api, [chatSubmission(`${key} after`)], key)).status).toBe(202);
    const malformed = await batch(api, [chatSubmission()], 'spaces are not allowed');
    expect(malformed.status).toBe(400);
    expect(malformed.body?.error).toEqual({
      type: 'invalid_request',
      message:
        'Idempotency-Key: holds a space, a control or a non-ASCII character; must be 1 to 255 visible ASCII characters',
    });
  });
});
