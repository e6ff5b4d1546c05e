/**
 * Source of a program written against a client generated from /openapi.json with
 * openapi-typescript and used through openapi-fetch, as an application would. `validCalls`
 * must compile and is run against the API; every line after a `@ts-expect-error` in
 * `refusedCalls` must fail to compile: a call the server would refuse.
 */
export const TYPED_CLIENT_CALLS = String.raw`
import createClient from 'openapi-fetch';
import type { components, paths } from './llmq-api.js';

type Job = components['schemas']['Job'];
type Client = ReturnType<typeof createClient<paths>>;

async function waitForEnd(llmq: Client, id: string): Promise<Job> {
  for (;;) {
    const { data, error } = await llmq.GET('/v1/jobs/{id}', { params: { path: { id }, query: { wait: 30 } } });
    if (error) throw new Error(error.error.type + ': ' + error.error.message);
    if (data.status !== 'queued' && data.status !== 'running') return data;
  }
}

export async function validCalls(baseUrl: string, keys: { alpha: string; beta: string }) {
  const llmq = createClient<paths>({ baseUrl, headers: { Authorization: 'Bearer ' + keys.alpha } });
  const submitted = await llmq.POST('/v1/jobs', {
    params: { header: { 'Idempotency-Key': 'typed-' + Date.now() } },
    body: {
      type: 'chat',
      request: {
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
        max_tokens: 20,
        temperature: 0,
      },
      metadata: { doc: '42' },
      webhook: { url: 'https://example.com/hooks/llmq' },
      cache: { mode: 'off' },
      priority: 'interactive',
    },
  });
  if (submitted.error) throw new Error(submitted.error.error.message);
  const chat = await waitForEnd(llmq, submitted.data.id);
  let text: string | null | undefined;
  if (chat.type === 'chat') text = chat.result?.choices[0]?.message.content;

  const embedding = await llmq.POST('/v1/jobs', {
    body: { type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: ['a', 'b'] } },
  });
  if (embedding.error) throw new Error(embedding.error.error.message);
  const vectors = await waitForEnd(llmq, embedding.data.id);
  let dimensions = 0;
  if (vectors.type === 'embedding') dimensions = vectors.result?.data[0]?.embedding.length ?? 0;

  const page = await llmq.GET('/v1/jobs', { params: { query: { status: 'succeeded', limit: 5 } } });
  const statuses: Array<'queued' | 'running' | 'succeeded' | 'failed' | 'canceled'> =
    page.data?.data.map((job) => job.status) ?? [];

  const usage = await llmq.GET('/v1/usage', { params: { query: { group_by: 'model' } } });
  const models: string[] = usage.data?.group_by === 'model' ? usage.data.data.map((group) => group.model) : [];

  const beta = createClient<paths>({ baseUrl, headers: { Authorization: 'Bearer ' + keys.beta } });
  const refused = await beta.POST('/v1/jobs', {
    body: { type: 'chat', request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] } },
  });
  const problem = refused.error?.error;
  let budgetUsd: number | undefined;
  if (problem?.type === 'budget_exceeded') budgetUsd = problem.budget_usd;

  const missing = await llmq.DELETE('/v1/jobs/{id}', { params: { path: { id: 'job_00000000000000000000000000' } } });
  const missingType: 'not_found' | undefined = missing.error?.error.type === 'not_found' ? 'not_found' : undefined;

  const event: components['schemas']['JobEvent'] = { event: 'delta', id: '1.1.2', data: { attempt: 1, offset: 0, text: 'Hi' } };
  return { status: chat.status, text, dimensions, statuses, models, budgetUsd, missingType, status402: refused.response.status, event };
}

export async function refusedCalls(llmq: Client, job: Job, usage: components['schemas']['UsageReport']) {
  // @ts-expect-error -- "image" is not a job type
  await llmq.POST('/v1/jobs', { body: { type: 'image', request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] } } });
  // @ts-expect-error -- a job names its type
  await llmq.POST('/v1/jobs', { body: { request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] } } });
  // @ts-expect-error -- stream is refused on jobs
  await llmq.POST('/v1/jobs', { body: { type: 'chat', request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: 'yes' } } });
  // @ts-expect-error -- stream: true as well
  await llmq.POST('/v1/jobs', { body: { type: 'chat', request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: true } } });
  // @ts-expect-error -- an unknown top-level field
  await llmq.POST('/v1/jobs', { body: { type: 'chat', request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }, urgency: 5 } });
  // @ts-expect-error -- priority is a name or 0-9, not any string
  await llmq.POST('/v1/jobs', { body: { type: 'chat', request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }, priority: 'urgent' } });
  // @ts-expect-error -- an embedding request on a chat job
  await llmq.POST('/v1/jobs', { body: { type: 'chat', request: { model: 'openai/text-embedding-3-small', input: 'x' } } });
  // @ts-expect-error -- roles are a closed set
  await llmq.POST('/v1/jobs', { body: { type: 'chat', request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'bot', content: 'Hi' }] } } });
  // @ts-expect-error -- metadata values are strings
  await llmq.POST('/v1/jobs', { body: { type: 'chat', request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }, metadata: { n: 1 } } });
  // @ts-expect-error -- a webhook has a url
  await llmq.POST('/v1/jobs', { body: { type: 'chat', request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }, webhook: {} } });
  // @ts-expect-error -- embedding jobs are cached per input: no semantic mode
  await llmq.POST('/v1/jobs', { body: { type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: 'x' }, cache: { mode: 'semantic' } } });
  // @ts-expect-error -- the Idempotency-Key is a string
  await llmq.POST('/v1/jobs', { params: { header: { 'Idempotency-Key': 42 } }, body: { type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: 'x' } } });
  // @ts-expect-error -- a batch carries jobs
  await llmq.POST('/v1/jobs/batch', { body: { jobs: [{ type: 'chat' }] } });
  // @ts-expect-error -- job statuses are a closed set
  await llmq.GET('/v1/jobs', { params: { query: { status: 'done' } } });
  // @ts-expect-error -- wait is a number of seconds
  await llmq.GET('/v1/jobs/{id}', { params: { path: { id: job.id }, query: { wait: 'long' } } });
  // @ts-expect-error -- group_by is model or day
  await llmq.GET('/v1/usage', { params: { query: { group_by: 'tenant' } } });
  // @ts-expect-error -- a job's status is never "done"
  if (job.status === 'done') return;
  // @ts-expect-error -- an embedding job's result has no choices
  if (job.type === 'embedding') return job.result?.choices;
  // @ts-expect-error -- a chat job's error type is a closed set
  if (job.error?.type === 'oops') return;
  // @ts-expect-error -- webhook statuses are a closed set
  if (job.webhook?.status === 'sent') return;
  // @ts-expect-error -- waiting_for is a closed set
  if (job.waiting_for === 'capacity') return;
  // @ts-expect-error -- usage groups are closed
  if (usage.group_by === 'model') return usage.data[0]?.tokens;
  // @ts-expect-error -- the budget is closed
  return usage.budget?.limit_usd;
}

export function refusedShapes(problem: components['schemas']['Error']['error']) {
  // @ts-expect-error -- API error types are a closed set
  if (problem.type === 'oops') return;
  // @ts-expect-error -- only budget_exceeded carries the budget figures
  if (problem.type === 'not_found') return problem.budget_usd;
  // @ts-expect-error -- a delta event carries its offset and text
  const event: components['schemas']['JobEvent'] = { event: 'delta', id: '1.1.2', data: { attempt: 1 } };
  return event;
}
`;
