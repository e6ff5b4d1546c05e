import { validate, compileErrors } from '@readme/openapi-parser';
import type { Express } from 'express';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import {
  createJobId,
  createJobSubmissionSchema,
  createModelCatalog,
  isJobId,
  llmqConfigSchema,
  parseModelName,
} from '@llmq/core';
import { redisTest } from '@llmq/devkit/vitest';
import { OpenApiAnswers } from '../../../../tests/support/openapi-answers.js';
import { chatSubmission, startTestApi, TEST_ADMIN_TOKEN, type TestApi } from '../__fixtures__/test-api.js';
import { API_ROUTES } from './api-route-table.js';
import { createOpenApiDocument, openApiPath } from './openapi-document.js';
import { JOB_ID_PATTERN } from './job-object-schemas.js';
import { modelNameSchema } from './submission-constraints.js';
import { errorBodySchema } from './error-schemas.js';
import { jobListSchema, jobObjectSchema } from './job-object-schemas.js';
import { usageReportSchema, webhookSecretSchema } from './openapi-schemas.js';

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

  test('the request body schema is the one the route validates with, a union discriminated by type', async ({
    api,
  }) => {
    const document = (await api.call('/openapi.json', { key: null })).body as {
      components: { schemas: Record<string, { oneOf?: Array<{ $ref: string }>; discriminator?: unknown }> };
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    expect(document.paths['/v1/jobs']?.post?.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/JobSubmission' } } },
    });
    const { oneOf, discriminator } = document.components.schemas.JobSubmission ?? {};
    expect(oneOf?.map((variant) => variant.$ref)).toEqual([
      '#/components/schemas/ChatJobSubmission',
      '#/components/schemas/EmbeddingJobSubmission',
    ]);
    expect(discriminator).toEqual({
      propertyName: 'type',
      mapping: {
        chat: '#/components/schemas/ChatJobSubmission',
        embedding: '#/components/schemas/EmbeddingJobSubmission',
      },
    });
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

/** Every answer must be one the served document describes. */
async function expectDocumented(api: TestApi, path: string, init: RequestInit & { key?: string | null } = {}) {
  const answer = await api.call(path, init);
  const document = new OpenApiAnswers((await api.call('/openapi.json', { key: null })).body);
  const body = answer.body ?? (answer.text === '' ? undefined : answer.text);
  const method = init.method ?? 'GET';
  expect(document.check({ method, path, status: answer.status, headers: answer.headers, body })).toEqual([]);
  return answer;
}

describe('answers only some deployments give match the document', () => {
  test('429 over the per-tenant rate, with Retry-After', async ({ redisUrl }) => {
    const limited = await startTestApi({ redisUrl, config: { apiRateLimit: 1 } });
    try {
      const statuses: number[] = [];
      for (let request = 0; request < 10 && !statuses.includes(429); request += 1) {
        statuses.push((await expectDocumented(limited, '/v1/jobs')).status);
      }
      expect(statuses).toContain(429);
    } finally {
      await limited.close();
    }
  });

  test('503 from /readyz while draining; the dashboard off answers 404', async ({ redisUrl }) => {
    const draining = await startTestApi({ redisUrl, draining: () => true });
    try {
      expect((await expectDocumented(draining, '/readyz', { key: null })).status).toBe(503);
      expect((await expectDocumented(draining, '/admin/login', { key: null })).status).toBe(404);
      // A 401 carries its Bearer challenge.
      expect((await expectDocumented(draining, '/v1/jobs', { key: null })).status).toBe(401);
      expect((await expectDocumented(draining, '/v1/jobs', { key: 'nope' })).status).toBe(401);
    } finally {
      await draining.close();
    }
  });

  test('the checker refuses what the document does not describe', async ({ api }) => {
    const document = new OpenApiAnswers((await api.call('/openapi.json', { key: null })).body);
    const json = new Headers({ 'content-type': 'application/json' });
    const created = await api.call('/v1/jobs', { method: 'POST', body: JSON.stringify(chatSubmission()) });
    const job = { ...created.body, status: 'done' };
    expect(document.check({ method: 'GET', path: '/v1/jobs/x', status: 200, headers: json, body: job })).not.toEqual(
      [],
    );
    expect(document.check({ method: 'GET', path: '/v1/jobs/x', status: 418, headers: json, body: {} })).not.toEqual([]);
    expect(
      document.check({ method: 'POST', path: '/v1/jobs', status: 202, headers: json, body: created.body }),
    ).toEqual(['header Location is required and missing']);
    const notFound = { error: { type: 'conflict', message: 'x' } };
    expect(
      document.check({ method: 'GET', path: '/v1/jobs/x', status: 404, headers: json, body: notFound }),
    ).not.toEqual([]);
  });
});

describe('what the document adds to the zod schemas agrees with the server', () => {
  test('job ids: the pattern matches exactly what isJobId takes', () => {
    const pattern = new RegExp(JOB_ID_PATTERN);
    const idLike = fc.stringMatching(/^job_[0-9A-Za-z]{25,27}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), idLike, fc.constant(createJobId())), (value) => {
        expect(pattern.test(value)).toBe(isJobId(value));
      }),
      { numRuns: 2_000 },
    );
  });

  test('model names: the pattern matches exactly what parseModelName takes', () => {
    const pattern = new RegExp(String(modelNameSchema('chat').pattern));
    const name = fc.stringMatching(/^[a-zA-Z0-9_\-/.:@+ ]{0,12}$/);
    fc.assert(
      fc.property(
        fc.oneof(name, fc.constant(`openai/${'m'.repeat(200)}`), fc.constant(`openai/${'m'.repeat(201)}`)),
        (value) => {
          expect(pattern.test(value)).toBe(parseModelName(value).ok);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  test("a deployment's document takes a job's models exactly when its submission schema does", () => {
    const catalog = createModelCatalog(
      llmqConfigSchema.parse({
        providers: { local: { type: 'openai-compatible', base_url: 'http://127.0.0.1:1/v1' } },
        aliases: { fast: ['openai/gpt-4o-mini', 'local/m'], writers: ['anthropic/claude-haiku-4-5'] },
      }),
    );
    const submissionSchema = createJobSubmissionSchema(catalog);
    const document = new OpenApiAnswers(createOpenApiDocument({ submissionSchema, catalog }));
    const model = fc.oneof(
      fc.constantFrom(
        'fast',
        'writers',
        'slow',
        'openai/gpt-4o-mini',
        'anthropic/c',
        'google/g',
        'local/x/y',
        'acme/m',
      ),
      fc.stringMatching(/^[a-z]{1,6}\/[a-zA-Z0-9/:]{0,4}$/),
    );
    const job = fc.record({ type: fc.constantFrom('chat', 'embedding'), model, fallback: fc.option(model) });
    fc.assert(
      fc.property(job, ({ type, model: name, fallback }) => {
        const body = {
          type,
          request:
            type === 'chat'
              ? { model: name, messages: [{ role: 'user', content: 'hi' }] }
              : { model: name, input: 'hi' },
          ...(fallback === null ? {} : { fallbacks: [fallback] }),
        };
        expect(document.checkComponent('JobSubmission', body).length === 0).toBe(
          submissionSchema.safeParse(body).success,
        );
      }),
      { numRuns: 1_000 },
    );
  });
});
