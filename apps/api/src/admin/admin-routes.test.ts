import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { createLlmQueue, createWebhookQueue } from '@llmq/core';
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
    const loggedOut = await api.call('/admin/logout', { method: 'POST', key: null, headers: { cookie: header } });
    expect(loggedOut.headers.get('set-cookie')).toMatch(/^llmq_admin=; Path=\/admin; Expires=Thu, 01 Jan 1970/);
  });

  test('behind HTTPS (X-Forwarded-Proto) the cookie is Secure', async ({ admin: { api } }) => {
    const { cookie } = await logIn(api, { 'x-forwarded-proto': 'https' });
    expect(cookie).toMatch(/; Secure; SameSite=Strict$/);
  });

  test('job data shows only its known fields', async ({ admin: { api }, redisUrl }) => {
    const queue = createLlmQueue({ connection: { url: redisUrl } });
    try {
      await queue.add('chat', { tenant: 'a', jobId: 'job_x', model: 'openai/m', apiKey: 'sk-secret' } as never, {
        jobId: 'job_x',
      });
      const job = await api.call('/admin/queues/api/queues/llm-jobs/job_x', { key: TEST_ADMIN_TOKEN });
      expect(job.status).toBe(200);
      expect((job.body?.job as { data: unknown }).data).toEqual({ tenant: 'a', jobId: 'job_x', model: 'openai/m' });
      expect(job.text).not.toContain('sk-secret');
    } finally {
      await queue.close();
    }
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

  test('read-only mode refuses changes', async ({ admin: { api, readOnly } }) => {
    const refused = await readOnly.call('/admin/queues/api/queues/llm-jobs/pause', {
      method: 'PUT',
      key: TEST_ADMIN_TOKEN,
    });
    expect(refused.status).toBe(405);
    expect(refused.body).toEqual({
      error: { type: 'method_not_allowed', message: 'queue read only', key: 'ERRORS.QUEUE_READ_ONLY' },
    });
    const webhooks = createWebhookQueue({ connection: api.redis });
    try {
      expect(await webhooks.isPaused()).toBe(false);
    } finally {
      await webhooks.close();
    }
  });
});
