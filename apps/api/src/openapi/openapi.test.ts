import { validate, compileErrors } from '@readme/openapi-parser';
import type { Express } from 'express';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { chatSubmission, startTestApi, TEST_ADMIN_TOKEN } from '../__fixtures__/test-api.js';
import { API_ROUTES } from './api-route-table.js';
import { openApiPath } from './openapi-document.js';
import {
  errorBodySchema,
  jobListSchema,
  jobObjectSchema,
  usageReportSchema,
  webhookSecretSchema,
} from './openapi-schemas.js';

const test = redisTest.extend('api', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const api = await startTestApi({ redisUrl, admin: { token: TEST_ADMIN_TOKEN } });
  onCleanup(() => api.close());
  return api;
});

interface StackLayer {
  rawPath?: string;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: StackLayer[] };
}

/** `METHOD /path` of every route registered in the app, nested routers included. */
function registeredRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: StackLayer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods))
          found.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, prefix + (layer.rawPath && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    }
  };
  walk((app as unknown as { router: { stack: StackLayer[] } }).router.stack, '');
  return found.sort();
}

describe('/openapi.json', () => {
  test('is a valid OpenAPI 3.1 document', async ({ api }) => {
    const answer = await api.call('/openapi.json', { key: null });
    expect(answer.status).toBe(200);
    const result = await validate(structuredClone(answer.body) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(answer.body).toMatchObject({ openapi: '3.1.0' });
  });

  test('documents every route the app serves, and nothing it does not', async ({ api }) => {
    const served = registeredRoutes(api.app);
    const documented = API_ROUTES.map((route) => `${route.method.toUpperCase()} ${route.path}`).sort();
    // bull-board's app is mounted, not routed: its page is documented, its inner API described.
    expect(served).toEqual(documented.filter((route) => route !== 'GET /admin/queues'));
    const paths = Object.keys(((await api.call('/openapi.json', { key: null })).body?.paths ?? {}) as object);
    expect(paths.sort()).toEqual([...new Set(API_ROUTES.map((route) => openApiPath(route.path)))].sort());
  });

  test('the request body schema is the one the route validates with', async ({ api }) => {
    const document = (await api.call('/openapi.json', { key: null })).body as {
      components: { schemas: Record<string, { oneOf?: Array<{ properties: { type: { const: string } } }> }> };
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    expect(document.paths['/v1/jobs']?.post?.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/JobSubmission' } } },
    });
    const variants = document.components.schemas.JobSubmission?.oneOf?.map((variant) => variant.properties.type.const);
    expect(variants).toEqual(['chat', 'embedding']);
  });

  test('real answers match the documented schemas', async ({ api }) => {
    const created = await api.call('/v1/jobs', { method: 'POST', body: JSON.stringify(chatSubmission()) });
    expect(jobObjectSchema.safeParse(created.body).error).toBeUndefined();
    const id = String(created.body?.id);
    await api.store.transition({
      tenant: 'a',
      jobId: id,
      to: 'succeeded',
      from: ['queued'],
      fields: {
        finished_at: Date.now(),
        answered_by: 'openai/gpt-4o-mini',
        usage: JSON.stringify({ input_tokens: 3, output_tokens: 2 }),
        result: JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'openai/gpt-4o-mini',
          provider: 'openai',
          choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
        }),
      },
    });
    expect(jobObjectSchema.safeParse((await api.call(`/v1/jobs/${id}`)).body).error).toBeUndefined();
    expect(jobListSchema.safeParse((await api.call('/v1/jobs')).body).error).toBeUndefined();
    expect(webhookSecretSchema.safeParse((await api.call('/v1/webhook-secret')).body).error).toBeUndefined();
    expect(usageReportSchema.safeParse((await api.call('/v1/usage?group_by=model')).body).error).toBeUndefined();
    const errors = await Promise.all([
      api.call('/v1/jobs', { key: null }),
      api.call('/v1/jobs/job_00000000000000000000000000'),
      api.call('/v1/jobs', { method: 'POST', body: '{}' }),
      api.call('/v1/jobs', { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(70_000) }) }),
      api.call('/nowhere', { key: null }),
      api.call('/admin/queues/api/queues', { key: null }),
    ]);
    expect(errors.map((answer) => answer.status)).toEqual([401, 404, 400, 413, 404, 401]);
    for (const answer of errors) expect(errorBodySchema.safeParse(answer.body).error).toBeUndefined();
  });
});
