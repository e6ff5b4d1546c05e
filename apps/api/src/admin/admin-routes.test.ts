import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { createLlmQueue, createWebhookQueue, JobLifecycle, WebhookDeliveryLog } from '@llmq/core';
import { startTestApi, TEST_ADMIN_TOKEN, type TestApi } from '../__fixtures__/test-api.js';

const test = redisTest.extend('admin', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const [api, readOnly] = await Promise.all([
    startTestApi({ redisUrl, admin: { token: TEST_ADMIN_TOKEN } }),
    startTestApi({ redisUrl, admin: { token: TEST_ADMIN_TOKEN, readOnly: true } }),
  ]);
  onCleanup(async () => {
    await Promise.all([api.close(), readOnly.close()]);
  });
  return { api, readOnly };
});

const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
const form = (token: string, headers: Record<string, string> = {}) => ({
  method: 'POST',
  key: null,
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams({ token }).toString(),
});

async function logIn(api: TestApi, headers: Record<string, string> = {}) {
  const answer = await api.call('/admin/login', form(TEST_ADMIN_TOKEN, headers));
  const cookie = answer.headers.get('set-cookie') ?? '';
  return { answer, cookie, header: cookie.split(';')[0] ?? '' };
}

describe('admin dashboard', () => {
  test('without a session: 401 in the one error shape, or the way to the login form for a browser', async ({
    admin: { api },
  }) => {
    const refused = await api.call('/admin/queues/api/queues', { key: null });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="llmq-admin"');
    expect(refused.body).toEqual({
      error: {
        type: 'authentication',
        message: 'log in at /admin/login or send "Authorization: Bearer <admin token>"',
      },
    });
    const browser = await api.call('/admin/queues', { key: null, headers: html });
    expect(browser.status).toBe(303);
    expect(browser.headers.get('location')).toBe('/admin/login');
    expect((await api.call('/admin/queues/', { key: 'not-the-admin-token-at-all' })).status).toBe(401);
    const login = await api.call('/admin/login', { key: null, headers: html });
    expect(login.status).toBe(200);
    expect(login.text).toContain('<form method="post" action="/admin/login">');
  });

  test('a wrong token is refused and sets no cookie', async ({ admin: { api } }) => {
    const wrong = await api.call('/admin/login', form('wrong-token'));
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: { type: 'authentication', message: 'wrong admin token' } });
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const fromBrowser = await api.call('/admin/login', form('wrong-token', html));
    expect(fromBrowser.status).toBe(401);
    expect(fromBrowser.text).toContain('That is not the admin token.');
    expect(fromBrowser.headers.get('set-cookie')).toBeNull();
  });

  test('the right token sets an HttpOnly, SameSite=Strict signed session cookie that opens the board', async ({
    admin: { api },
  }) => {
    const { answer, cookie, header } = await logIn(api);
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/admin/queues');
    expect(cookie).toMatch(
      /^llmq_admin=s%3A\d+\.[\w%-]+; Max-Age=43200; Path=\/admin; Expires=.+; HttpOnly; SameSite=Strict$/,
    );
    expect(cookie).not.toContain(TEST_ADMIN_TOKEN);

    const queues = await api.call('/admin/queues/api/queues', { key: null, headers: { cookie: header } });
    expect(queues.status).toBe(200);
    const names = (queues.body?.queues as Array<{ name: string }>).map((queue) => queue.name).sort();
    expect(names).toEqual(['llm-jobs', 'webhooks']);

    const tampered = header.replace(/s%3A(\d)/, (_match, digit: string) => `s%3A${(Number(digit) + 1) % 10}`);
    expect((await api.call('/admin/queues/api/queues', { key: null, headers: { cookie: tampered } })).status).toBe(401);
    for (const method of ['POST', 'GET']) {
      const loggedOut = await api.call('/admin/logout', { method, key: null, headers: { cookie: header } });
      expect(loggedOut.status).toBe(303);
      expect(loggedOut.headers.get('location')).toBe('/admin/login');
      expect(loggedOut.headers.get('set-cookie')).toMatch(/^llmq_admin=; Path=\/admin; Expires=Thu, 01 Jan 1970/);
    }
  });

  test('behind HTTPS (X-Forwarded-Proto) the cookie is Secure', async ({ admin: { api } }) => {
    const { cookie } = await logIn(api, { 'x-forwarded-proto': 'https' });
    expect(cookie).toMatch(/; Secure; SameSite=Strict$/);
  });

  test('job data shows only its known fields, and a job without a record says so', async ({
    admin: { api },
    redisUrl,
  }) => {
    const queue = createLlmQueue({ connection: { url: redisUrl } });
    try {
      await queue.add('chat', { tenant: 'a', jobId: 'job_x', model: 'openai/m', apiKey: 'sk-secret' } as never, {
        jobId: 'job_x',
      });
      const job = await api.call('/admin/queues/api/queues/llm-jobs/job_x', { key: TEST_ADMIN_TOKEN });
      expect(job.status).toBe(200);
      expect(job.body?.job).toMatchObject({
        name: 'no record · chat · openai/m',
        data: {
          record: 'the record has expired or was never written',
          queue: { tenant: 'a', jobId: 'job_x', model: 'openai/m' },
        },
      });
      expect(job.text).not.toContain('sk-secret');
    } finally {
      await queue.close();
    }
  });

  test("a job shows its record as the API does: status, models, attempts, times, metadata, webhook; never the prompt or the hook's query", async ({
    admin: { api },
  }) => {
    const submitted = await api.call('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({
        type: 'chat',
        request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'prompt-secret-42' }] },
        fallbacks: ['anthropic/claude-haiku-4-5'],
        metadata: { doc: '42' },
        webhook: { url: 'https://hooks.example.com/llmq?token=hook-secret-7' },
      }),
    });
    expect(submitted.status).toBe(202);
    const id = String(submitted.body?.id);
    const board = async () => {
      const answer = await api.call(`/admin/queues/api/queues/llm-jobs/${id}`, { key: TEST_ADMIN_TOKEN });
      expect(answer.text).not.toMatch(/prompt-secret-42|hook-secret-7|token=|\/llmq\?/);
      return answer.body?.job as {
        name: string;
        data: Record<string, unknown>;
        returnValue: unknown;
        failedReason?: string;
      };
    };
    const queued = await board();
    expect(queued.name).toBe('queued · chat · openai/gpt-4o-mini');
    expect(queued.data).toMatchObject({
      status: 'queued',
      model: 'openai/gpt-4o-mini',
      fallbacks: ['anthropic/claude-haiku-4-5'],
      answered_by: null,
      metadata: { doc: '42' },
      webhook: { to: 'https://hooks.example.com', status: 'pending' },
      webhook_deliveries: [],
      attempts: [],
      finished: null,
      queue: { tenant: 'a', jobId: id, model: 'openai/gpt-4o-mini' },
    });
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    expect(queued.data.created).toMatch(iso);
    expect((queued.data.queue as Record<string, unknown>).deadlineAt).toMatch(iso);
    expect((queued.data.queue as Record<string, unknown>).attemptTimeoutMs).toMatch(/^\d+(\.\d)?(s|m)/);

    // The lifecycle's own verbs, as a worker calls them: a failed call, then a failed job.
    const lifecycle = new JobLifecycle(api.store);
    const started = Date.now();
    expect((await lifecycle.start({ tenant: 'a', jobId: id, at: started, modelIndex: 0 })).outcome).toBe('started');
    const error = { type: 'overloaded' as const, message: 'busy', provider: 'openai', status: 529 };
    const attempt = {
      model: 'openai/gpt-4o-mini',
      status: 'failed' as const,
      started_at: started / 1000,
      duration_ms: 1_234,
      error,
    };
    expect(await lifecycle.requeue({ tenant: 'a', jobId: id, attempt, modelIndex: 1 })).toBe(true);
    await lifecycle.start({ tenant: 'a', jobId: id, at: started + 2_000, modelIndex: 1 });
    await lifecycle.fail({
      tenant: 'a',
      jobId: id,
      error,
      at: started + 2_500,
      attempt: {
        ...attempt,
        model: 'anthropic/claude-haiku-4-5',
        started_at: (started + 2_000) / 1000,
        duration_ms: 480,
      },
    });
    const deliveries = new WebhookDeliveryLog(api.redis);
    await deliveries.record('a', id, 'delivered', {
      attempt: 1,
      attempted_at: (started + 3_000) / 1000,
      outcome: 'delivered',
      status_code: 204,
      duration_ms: 35,
      error: null,
    });
    const failed = await board();
    expect(failed.name).toBe('failed · chat · openai/gpt-4o-mini');
    expect(failed.failedReason).toBe('overloaded, openai, HTTP 529: busy');
    expect(failed.returnValue).toEqual({ status: 'failed', answered_by: null, usage: null });
    expect(failed.data).toMatchObject({
      status: 'failed',
      error: 'overloaded, openai, HTTP 529: busy',
      started: new Date(started).toISOString(),
      attempts: [
        `#1 openai/gpt-4o-mini failed, started ${new Date(started).toISOString()}, took 1.2s: overloaded, openai, HTTP 529: busy`,
        `#2 anthropic/claude-haiku-4-5 failed, started ${new Date(started + 2_000).toISOString()}, took 480ms: overloaded, openai, HTTP 529: busy`,
      ],
      cost_usd: 0,
      webhook: { to: 'https://hooks.example.com', status: 'delivered' },
      webhook_deliveries: [`#1 delivered (HTTP 204), at ${new Date(started + 3_000).toISOString()}, took 35ms`],
    });
    expect(failed.data.finished).toBe(new Date(started + 2_500).toISOString());
  });

  test('a job answered by a fallback is titled with both models and shows usage, never the answer', async ({
    admin: { api },
  }) => {
    const submitted = await api.call('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({
        type: 'chat',
        request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] },
        fallbacks: ['anthropic/claude-haiku-4-5'],
      }),
    });
    const id = String(submitted.body?.id);
    const lifecycle = new JobLifecycle(api.store);
    const at = Date.now();
    await lifecycle.start({ tenant: 'a', jobId: id, at, modelIndex: 1 });
    const usage = { input_tokens: 12, output_tokens: 80 };
    const succeeded = await lifecycle.succeed({
      tenant: 'a',
      jobId: id,
      at: at + 900,
      answeredBy: 'anthropic/claude-haiku-4-5',
      usage,
      attempt: { model: 'anthropic/claude-haiku-4-5', status: 'succeeded', started_at: at / 1000, duration_ms: 850 },
      result: {
        id: 'msg_1',
        object: 'chat.completion',
        created: Math.floor(at / 1000),
        model: 'anthropic/claude-haiku-4-5',
        provider: 'anthropic',
        choices: [{ index: 0, message: { role: 'assistant', content: 'answer-secret-9' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 12, completion_tokens: 80, total_tokens: 92 },
      },
    });
    expect(succeeded).toBe(true);
    const answer = await api.call(`/admin/queues/api/queues/llm-jobs/${id}`, { key: TEST_ADMIN_TOKEN });
    expect(answer.text).not.toContain('answer-secret-9');
    expect(answer.body?.job).toMatchObject({
      name: 'succeeded · chat · openai/gpt-4o-mini → anthropic/claude-haiku-4-5',
      returnValue: { status: 'succeeded', answered_by: 'anthropic/claude-haiku-4-5', usage },
      data: {
        status: 'succeeded',
        model: 'openai/gpt-4o-mini',
        answered_by: 'anthropic/claude-haiku-4-5',
        usage,
        // From its creation by the API to its end.
        took: expect.stringMatching(/^\d+(\.\d)?m?s$/),
        finished: new Date(at + 900).toISOString(),
        attempts: [`#1 anthropic/claude-haiku-4-5 succeeded, started ${new Date(at).toISOString()}, took 850ms`],
        webhook: null,
      },
    });
    expect((answer.body?.job as { failedReason?: string }).failedReason).toBeFalsy();
  });

  test("bull-board's own errors come in the one error shape, keeping its translation key", async ({
    admin: { api },
  }) => {
    const missing = await api.call('/admin/queues/api/queues/no-such-queue/job_1', { key: TEST_ADMIN_TOKEN });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { type: 'not_found', message: 'queue not found', key: 'ERRORS.QUEUE_NOT_FOUND' },
    });
    const nowhere = await api.call('/admin/queues/api/nothing-here', { key: TEST_ADMIN_TOKEN });
    expect(nowhere.status).toBe(404);
    expect(nowhere.body).toMatchObject({ error: { type: 'not_found' } });
    const huge = await api.call('/admin/login', form('x'.repeat(10_000)));
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ error: { type: 'payload_too_large' } });
  });

  test('the board changes nothing, whatever LLMQ_ADMIN_READ_ONLY says: no retries, removals, cleaning or pauses', async ({
    admin: { api, readOnly },
  }) => {
    for (const board of [api, readOnly]) {
      const listed = await board.call('/admin/queues/api/queues', { key: TEST_ADMIN_TOKEN });
      for (const queue of listed.body?.queues as Array<Record<string, unknown>>)
        expect(queue).toMatchObject({ readOnlyMode: true, allowRetries: false });
      for (const [method, path] of [
        ['PUT', 'llm-jobs/pause'],
        ['PUT', 'llm-jobs/retry/failed'],
        ['PUT', 'llm-jobs/clean/completed'],
        ['PUT', 'llm-jobs/job_x/retry'],
        ['PUT', 'llm-jobs/job_x/clean'],
        ['PUT', 'llm-jobs/job_x/promote'],
        ['PUT', 'llm-jobs/empty'],
        ['POST', 'llm-jobs/add'],
        ['PUT', 'webhooks/retry/failed'],
        ['PUT', 'webhooks/clean/failed'],
      ] as const) {
        const refused = await board.call(`/admin/queues/api/queues/${path}`, { method, key: TEST_ADMIN_TOKEN });
        expect(refused.status, path).toBe(405);
        expect(refused.body).toEqual({
          error: { type: 'method_not_allowed', message: 'queue read only', key: 'ERRORS.QUEUE_READ_ONLY' },
        });
      }
    }
    const webhooks = createWebhookQueue({ connection: api.redis });
    try {
      expect(await webhooks.isPaused()).toBe(false);
    } finally {
      await webhooks.close();
    }
  });
});
