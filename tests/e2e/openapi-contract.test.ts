import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { badSubmissions, type BadSubmission } from './bad-submissions.js';
import { expectDocumentedAnswer, openApiAnswersOf, type OpenApiAnswers } from '../support/openapi-answers.js';
import { TYPED_CLIENT_CALLS } from '../support/typed-client-calls.js';
import { expectedErrorLines, generateTypedClient, withoutExpectations } from '../support/typed-client.js';

let stack: Stack;
let document: OpenApiAnswers;

beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 1,
    apiEnv: { LLMQ_MAX_BODY_BYTES: '65536' },
    config: [
      'providers:',
      '  local: { type: openai-compatible, base_url: "{simulator}/v1" }',
      'aliases:',
      '  fast: [openai/gpt-4o-mini, local/llama-3.1-8b]',
      '  writers: [anthropic/claude-haiku-4-5]',
      'budgets:',
      '  beta: 0.000001',
      'webhooks:',
      '  allow_cidrs: ["127.0.0.2/32"]',
    ].join('\n'),
  });
  document = await openApiAnswersOf(stack.apiUrl);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

type Tenant = 'alpha' | 'beta' | null;

/** A request whose answer must be one the document describes; returns it. */
async function call(
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string>; tenant?: Tenant } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  const tenant = init.tenant === undefined ? 'alpha' : init.tenant;
  if (tenant !== null) headers.authorization = `Bearer ${stack.keys[tenant]}`;
  if (init.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${stack.apiUrl}${path}`, { method, headers, body: init.body });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.startsWith('application/json') ?? false;
  const body: unknown = isJson ? JSON.parse(text) : text === '' ? undefined : text;
  await expectDocumentedAnswer(stack.apiUrl, {
    method,
    path,
    status: response.status,
    headers: response.headers,
    body,
  });
  return { status: response.status, headers: response.headers, body: body as Record<string, unknown> };
}

const chat = (extra: Record<string, unknown> = {}, request: Record<string, unknown> = {}) => ({
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 20, ...request },
  ...extra,
});
const post = (body: unknown, init: { headers?: Record<string, string>; tenant?: Tenant } = {}) =>
  call('POST', '/v1/jobs', { body: JSON.stringify(body), ...init });

describe('every answer matches /openapi.json', () => {
  it('jobs: submit, replay, read, wait, list, cancel, batch, refusals', async () => {
    const key = `contract-${Date.now()}`;
    const created = await post(chat({ metadata: { doc: '42' } }), { headers: { 'Idempotency-Key': key } });
    expect(created.status).toBe(202);
    const id = String(created.body.id);
    const replayed = await post(chat({ metadata: { doc: '42' } }), { headers: { 'Idempotency-Key': key } });
    expect([replayed.status, replayed.headers.get('idempotent-replayed'), replayed.body.id]).toEqual([202, 'true', id]);
    expect((await post(chat(), { headers: { 'Idempotency-Key': key } })).status).toBe(422);
    expect((await post(chat(), { headers: { 'Idempotency-Key': 'k'.repeat(256) } })).status).toBe(400);
    const done = await call('GET', `/v1/jobs/${id}?wait=30`);
    expect(done.body).toMatchObject({ status: 'succeeded', type: 'chat', result: { object: 'chat.completion' } });

    const embedding = await post({
      type: 'embedding',
      request: { model: 'openai/text-embedding-3-small', input: ['a', 'b'] },
    });
    const vectors = await call('GET', `/v1/jobs/${String(embedding.body.id)}?wait=30`);
    expect(vectors.body).toMatchObject({ status: 'succeeded', type: 'embedding', result: { object: 'list' } });

    await fetch(`${stack.simulatorUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify([
        { match: { model: 'contract-broke' }, fault: 'insufficient_quota' },
        { match: { model: 'contract-hold' }, fault: 'hold' },
      ]),
    });
    const failing = await post(chat({ attempts: 1 }, { model: 'openai/contract-broke' }));
    const failed = await call('GET', `/v1/jobs/${String(failing.body.id)}?wait=30`);
    expect(failed.body).toMatchObject({ status: 'failed', error: { type: 'quota_exceeded' } });

    expect((await call('GET', '/v1/jobs?status=succeeded&limit=2')).body).toMatchObject({ object: 'list' });
    expect((await call('GET', '/v1/jobs?status=done')).status).toBe(400);
    expect((await call('GET', `/v1/jobs/${id}?wait=61`)).status).toBe(400);
    expect((await call('GET', '/v1/jobs/job_00000000000000000000000000')).status).toBe(404);
    expect((await call('DELETE', `/v1/jobs/${id}`)).status).toBe(409);
    expect((await call('DELETE', '/v1/jobs/%zz')).status).toBe(400);
    expect((await call('POST', `/v1/jobs/${id}/webhook/redeliver`)).status).toBe(409);

    const held = await post(chat({}, { model: 'openai/contract-hold' }));
    expect((await call('DELETE', `/v1/jobs/${String(held.body.id)}`)).body).toMatchObject({ status: 'canceled' });

    const batch = await call('POST', '/v1/jobs/batch', { body: JSON.stringify({ jobs: [chat(), chat()] }) });
    expect(batch.status).toBe(202);
    const batchKey = { 'Idempotency-Key': `${key}-batch` };
    const jobs = JSON.stringify({ jobs: [chat(), chat({ metadata: { n: '2' } })] });
    expect((await call('POST', '/v1/jobs/batch', { body: jobs, headers: batchKey })).status).toBe(202);
    const again = await call('POST', '/v1/jobs/batch', { body: jobs, headers: batchKey });
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([202, 'true']);
    expect((await call('POST', '/v1/jobs/batch', { body: JSON.stringify({ jobs: [] }) })).status).toBe(400);

    expect((await post(chat(), { tenant: 'beta' })).body).toMatchObject({ error: { type: 'budget_exceeded' } });
    expect((await post(chat(), { tenant: null })).status).toBe(401);
    expect(
      (
        await call('POST', '/v1/jobs', {
          body: 'type=chat',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).status,
    ).toBe(415);
    expect((await call('POST', '/v1/jobs', { body: JSON.stringify({ pad: 'x'.repeat(70_000) }) })).status).toBe(413);
    expect((await call('DELETE', `/v1/jobs/${id}`, { body: '{"oops":' })).status).toBe(400);
  });

  it('usage, webhook secrets and the operations routes', async () => {
    for (const query of ['', '?group_by=model', '?group_by=day']) {
      expect((await call('GET', `/v1/usage${query}`)).body).toMatchObject({ object: 'usage' });
    }
    expect((await call('GET', '/v1/usage', { tenant: 'beta' })).body).toMatchObject({
      budget: { budget_usd: 0.000001 },
    });
    expect((await call('GET', '/v1/usage?from=2025-02-30')).status).toBe(400);

    const secrets = await call('GET', '/v1/webhook-secret');
    const rotated = await call('POST', '/v1/webhook-secret/rotate', { body: JSON.stringify({ grace_seconds: 60 }) });
    const previous = (rotated.body.previous as Array<{ id: string }>)[0]?.id;
    expect(previous).toBe((secrets.body.current as { id: string }).id);
    expect((await call('DELETE', `/v1/webhook-secret/${(rotated.body.current as { id: string }).id}`)).status).toBe(
      409,
    );
    expect((await call('DELETE', `/v1/webhook-secret/${previous}`)).status).toBe(200);
    expect((await call('DELETE', '/v1/webhook-secret/whs_nothing')).status).toBe(404);
    expect((await call('POST', '/v1/webhook-secret/rotate', { body: '{"grace_seconds":-1}' })).status).toBe(400);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await call('POST', '/v1/webhook-secret/rotate', { body: 'grace=1', headers: form })).status).toBe(415);

    expect((await call('GET', '/healthz', { tenant: null })).status).toBe(200);
    expect((await call('GET', '/readyz', { tenant: null })).status).toBe(200);
    expect((await call('GET', '/metrics', { tenant: null })).status).toBe(200);
    expect((await call('GET', '/openapi.json', { tenant: null })).status).toBe(200);
  });

  it('every event of /v1/jobs/{id}/events is a JobEvent', async () => {
    const { body } = await post(chat({}, { max_tokens: 60 }));
    const response = await fetch(`${stack.apiUrl}/v1/jobs/${String(body.id)}/events`, {
      headers: { authorization: `Bearer ${stack.keys.alpha}` },
    });
    await expectDocumentedAnswer(stack.apiUrl, {
      method: 'GET',
      path: `/v1/jobs/${String(body.id)}/events`,
      status: response.status,
      headers: response.headers,
    });
    const events: Array<{ event: string; data: unknown; id?: string }> = [];
    const reader = (response.body as ReadableStream<Uint8Array>)
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream())
      .getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      const { event = 'message', data, id } = next.value;
      events.push({ event, data: JSON.parse(data) as unknown, ...(id === undefined ? {} : { id }) });
    }
    expect(events.map((event) => event.event)).toContain('status');
    expect(events.at(-1)?.data).toMatchObject({ status: 'succeeded' });
    for (const event of events) expect(document.checkComponent('JobEvent', event)).toEqual([]);
    const path = `/v1/jobs/${String(body.id)}/events`;
    expect((await call('GET', path, { headers: { 'Last-Event-ID': events.at(-1)?.id ?? '' } })).status).toBe(204);
    expect((await call('GET', path, { headers: { 'Last-Event-ID': 'nope' } })).status).toBe(400);
    expect((await call('GET', '/v1/jobs/job_00000000000000000000000000/events')).status).toBe(404);
  });
});

describe('the webhook llmq posts matches the document', () => {
  it('a job.succeeded event: its body is a WebhookEvent and its headers those of webhooks.job.ended', async () => {
    const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    receiver.listen(0, '127.0.0.2');
    await once(receiver, 'listening');
    try {
      const url = `http://127.0.0.2:${(receiver.address() as AddressInfo).port}/hook`;
      const { body } = await post(chat({ webhook: { url } }));
      expect((await call('GET', `/v1/jobs/${String(body.id)}?wait=30`)).body).toMatchObject({ status: 'succeeded' });
      // The delivery follows the end on the webhook queue: wait for it (up to 30 s).
      for (let tries = 0; tries < 300 && received.length === 0; tries += 1) await sleep(100);
      expect(received.length).toBeGreaterThan(0);
      const [delivery] = received;
      expect(document.checkComponent('WebhookEvent', JSON.parse(delivery?.body ?? 'null'))).toEqual([]);
      for (const [index, name] of ['webhook-id', 'webhook-timestamp', 'webhook-signature'].entries()) {
        const validate = document.schemaAt(`/webhooks/job.ended/post/parameters/${index}/schema`);
        expect([name, validate(delivery?.headers[name])]).toEqual([name, true]);
      }
    } finally {
      receiver.close();
    }
  });
});

/** Refusals of the server that JSON Schema cannot express, and why. */
const NOT_EXPRESSIBLE = new Set([
  // The document describes one JSON body; these never reach the schema.
  'invalid JSON',
  'a body over the limit',
  'a form body',
]);

describe('the document refuses what the server refuses', () => {
  const extra = [
    { name: 'a metadata key over 64 characters', body: chat({ metadata: { ['k'.repeat(65)]: 'v' } }) },
    {
      name: '17 metadata keys',
      body: chat({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`k${index}`, 'v'])) }),
    },
    { name: 'an ftp webhook', body: chat({ webhook: { url: 'ftp://example.com/hook' } }) },
    { name: 'max_tokens and max_completion_tokens', body: chat({}, { max_completion_tokens: 20 }) },
    {
      name: 'an alias that names a provider without embeddings',
      body: { type: 'embedding', request: { model: 'writers', input: 'x' } },
    },
    {
      name: 'an embedding job on a chat-only provider',
      body: { type: 'embedding', request: { model: 'anthropic/claude-haiku-4-5', input: 'x' } },
    },
    { name: 'stream: "yes"', body: chat({}, { stream: 'yes' }) },
  ].map(({ name, body }): BadSubmission => ({ name, body: JSON.stringify(body), status: 400, message: '' }));

  it.each([...badSubmissions, ...extra].filter((bad) => !NOT_EXPRESSIBLE.has(bad.name)))(
    '$name: a 400, and JobSubmission refuses it',
    async (bad) => {
      const answer = await call('POST', '/v1/jobs', {
        body: bad.body,
        headers: bad.contentType ? { 'content-type': bad.contentType } : {},
      });
      expect(answer.status).toBe(bad.status);
      expect(document.checkComponent('JobSubmission', JSON.parse(bad.body))).not.toEqual([]);
    },
  );

  it.each([
    {
      name: 'a chat job through an alias with every option',
      body: chat(
        {
          fallbacks: ['fast', 'local/llama-3.1-8b'],
          attempts: 2,
          timeout_s: 30,
          deadline_s: 600,
          metadata: { ['k'.repeat(64)]: 'v'.repeat(512) },
          webhook: { url: 'https://example.com/hook' },
          cache: { mode: 'exact', ttl_s: 60 },
        },
        { model: 'fast', temperature: 0, stop: ['\n'], seed: 1 },
      ),
    },
    {
      name: 'an embedding job',
      body: { type: 'embedding', request: { model: 'local/embed-1', input: ['a', 'b'], dimensions: 8 } },
    },
    {
      name: 'a model id with slashes and tags',
      body: chat({}, { model: 'local/meta-llama/Llama-3.1-8B-Instruct:q4@v1+x' }),
    },
  ])('$name: JobSubmission takes it, and so does the server', async ({ body }) => {
    expect(document.checkComponent('JobSubmission', body)).toEqual([]);
    expect((await post(body)).status).toBe(202);
  });
});

describe('a client generated with openapi-typescript, used through openapi-fetch', () => {
  it('compiles the calls the server takes, runs them, and refuses to compile the calls it refuses', async () => {
    const client = await generateTypedClient(await (await fetch(`${stack.apiUrl}/openapi.json`)).json());
    try {
      // Without the expectations, exactly the marked lines fail: each refused call, and nothing else.
      const errors = client.compile(withoutExpectations(TYPED_CLIENT_CALLS));
      const failing = [...new Set(errors.map((error) => error.line))].sort((left, right) => left - right);
      expect(failing, JSON.stringify(errors, null, 1)).toEqual(expectedErrorLines(TYPED_CLIENT_CALLS));
      expect(client.compile(TYPED_CLIENT_CALLS, { emit: true })).toEqual([]);

      const { validCalls } = await client.load<{
        validCalls: (baseUrl: string, keys: Stack['keys']) => Promise<Record<string, unknown>>;
      }>();
      expect(await validCalls(stack.apiUrl, stack.keys)).toMatchObject({
        status: 'succeeded',
        text: expect.any(String),
        dimensions: expect.any(Number),
        statuses: expect.arrayContaining(['succeeded']),
        models: expect.arrayContaining(['openai/gpt-4o-mini']),
        budgetUsd: 0.000001,
        missingType: 'not_found',
        status402: 402,
      });
    } finally {
      await client.remove();
    }
  });
});
