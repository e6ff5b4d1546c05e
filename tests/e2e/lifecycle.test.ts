import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { simulatedChatReply, simulatedEmbedding } from '@llmq/simulator';
import { documentedCall } from '../support/documented-call.js';
import { badSubmissions } from './bad-submissions.js';

interface Job {
  id: string;
  status: string;
  type: string;
  model: string;
  attempts: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  result: {
    provider: string;
    model: string;
    object: string;
    choices?: Array<{ message: { content: string | null }; finish_reason: string }>;
    data?: Array<{ index: number; embedding: number[] }>;
    usage: { prompt_tokens: number; completion_tokens?: number };
  } | null;
  usage: { input_tokens: number; output_tokens: number } | null;
  error: unknown;
}

let stack: Stack;

const call = (path: string, init: RequestInit & { tenant?: 'alpha' | 'beta' | null } = {}) =>
  documentedCall(stack, path, init);

const submit = (body: unknown, tenant: 'alpha' | 'beta' = 'alpha') =>
  call('/v1/jobs', { method: 'POST', body: JSON.stringify(body), tenant });

beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 2,
    workerEnv: { WORKER_CONCURRENCY: '16' },
    apiEnv: { LLMQ_MAX_BODY_BYTES: '65536' },
    // An OpenAI-compatible server declared in the config file, here the same simulator.
    config: 'providers:\n  local:\n    type: openai-compatible\n    base_url: "{simulator}/v1"\n',
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('job lifecycle, end to end', () => {
  it('runs 200 mixed chat and embedding jobs to the simulator exact outputs, across 2 workers', async () => {
    const submissions = Array.from({ length: 200 }, (_, index) => {
      if (index % 5 < 3) {
        const modelId = index % 2 === 0 ? 'gpt-4o-mini' : 'llama-3.1-8b';
        return {
          type: 'chat' as const,
          request: {
            model: `${index % 2 === 0 ? 'openai' : 'local'}/${modelId}`,
            messages: [
              { role: 'system', content: 'You are terse.' },
              { role: 'user', content: `Question number ${index}: what is ${index} squared?` },
            ],
            max_tokens: 10 + (index % 30),
            temperature: 0,
          },
          metadata: { index: String(index) },
          modelId,
        };
      }
      const inputs = Array.from({ length: 1 + (index % 4) }, (_, item) => `document ${index} part ${item}`);
      return {
        type: 'embedding' as const,
        request: { model: 'openai/text-embedding-3-small', input: inputs, dimensions: 8 },
        metadata: { index: String(index) },
        modelId: 'text-embedding-3-small',
      };
    });

    const accepted = await Promise.all(
      submissions.map(async ({ modelId: _modelId, ...body }) => {
        const response = await submit(body);
        expect(response.status).toBe(202);
        return response.body as unknown as Job;
      }),
    );
    expect(new Set(accepted.map((job) => job.id)).size).toBe(200);

    const finished = await Promise.all(
      accepted.map(async (job) => (await call(`/v1/jobs/${job.id}?wait=30`)).body as unknown as Job),
    );
    for (const [index, job] of finished.entries()) {
      const submission = submissions[index];
      if (submission === undefined) throw new Error('missing submission');
      expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
      expect(job.attempts).toBe(1);
      expect(job.finished_at).toBeGreaterThanOrEqual(job.started_at ?? Infinity);
      if (submission.type === 'chat') {
        const expected = simulatedChatReply({ ...submission.request, model: submission.modelId });
        expect(job.result?.choices?.[0]?.message.content).toBe(expected.content);
        expect(job.result?.choices?.[0]?.finish_reason).toBe(expected.finishReason);
        expect(job.result?.provider).toBe(submission.request.model.split('/')[0]);
        expect(job.result?.model).toBe(submission.request.model);
        expect(job.usage).toEqual({ input_tokens: expected.promptTokens, output_tokens: expected.completionTokens });
      } else {
        expect(job.result?.object).toBe('list');
        const inputs = submission.request.input;
        expect(job.result?.data?.map((item) => item.index)).toEqual(inputs.map((_, item) => item));
        for (const [item, text] of inputs.entries()) {
          expect(job.result?.data?.[item]?.embedding).toEqual(simulatedEmbedding(submission.modelId, text, 8));
        }
        expect(job.usage?.output_tokens).toBe(0);
        expect(job.usage?.input_tokens).toBeGreaterThan(0);
      }
    }

    // Both worker processes took part.
    for (const worker of stack.workers) {
      expect(worker.lines.filter((line) => line.includes('job succeeded')).length).toBeGreaterThan(0);
    }
  });

  it('?wait holds the request until the job ends, then answers at once', async () => {
    await fetch(`${stack.simulatorUrl}/_sim/config`, { method: 'PUT', body: JSON.stringify({ latencyMs: 1500 }) });
    try {
      const { body } = await submit({
        type: 'chat',
        request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'slow one' }] },
      });
      const started = Date.now();
      const waited = (await call(`/v1/jobs/${String(body.id)}?wait=20`)).body as unknown as Job;
      const elapsed = Date.now() - started;
      expect(waited.status).toBe('succeeded');
      expect(elapsed).toBeGreaterThanOrEqual(1_000);
      expect(elapsed).toBeLessThan(10_000);
    } finally {
      await fetch(`${stack.simulatorUrl}/_sim/config`, { method: 'PUT', body: JSON.stringify({ latencyMs: 0 }) });
    }
  });

  it('lists the caller’s jobs newest first, page by page, filtered by status', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 7; index += 1) {
      const { body } = await submit(
        { type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: `list ${index}` } },
        'beta',
      );
      ids.push(String(body.id));
    }
    for (const id of ids) await call(`/v1/jobs/${id}?wait=20`, { tenant: 'beta' });

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page += 1) {
      const query: string = cursor ? `?limit=3&after=${cursor}` : '?limit=3';
      const { body } = await call(`/v1/jobs${query}`, { tenant: 'beta' });
      const data = body.data as Job[];
      seen.push(...data.map((job) => job.id));
      cursor = body.next_cursor as string | null;
      expect(body.has_more).toBe(cursor !== null);
      if (cursor === null) break;
    }
    expect(seen).toEqual([...ids].reverse());

    const succeeded = await call('/v1/jobs?status=succeeded&limit=100', { tenant: 'beta' });
    expect((succeeded.body.data as Job[]).map((job) => job.id)).toEqual([...ids].reverse());
    const failed = await call('/v1/jobs?status=failed', { tenant: 'beta' });
    expect(failed.body.data).toEqual([]);
  });

  it('keeps tenants apart: another tenant’s job is a 404 like one that never existed', async () => {
    const { body } = await submit(
      { type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: 'private' } },
      'alpha',
    );
    const foreign = await call(`/v1/jobs/${String(body.id)}`, { tenant: 'beta' });
    const never = await call('/v1/jobs/job_00000000000000000000000000', { tenant: 'beta' });
    expect(foreign.status).toBe(404);
    expect(never.status).toBe(404);
    expect(Object.keys(foreign.body)).toEqual(Object.keys(never.body));
    const listed = await call('/v1/jobs?limit=100', { tenant: 'beta' });
    expect((listed.body.data as Job[]).some((job) => job.id === body.id)).toBe(false);
  });

  it('answers 401 without a key and with a wrong key', async () => {
    expect((await call('/v1/jobs', { tenant: null })).status).toBe(401);
    const wrong = await fetch(`${stack.apiUrl}/v1/jobs`, { headers: { authorization: 'Bearer wrong-key-0123456789' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: { type: 'authentication', message: 'invalid API key' } });
  });

  it.each(badSubmissions)('refuses $name with $status', async (bad) => {
    const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.keys.alpha}`, 'content-type': bad.contentType ?? 'application/json' },
      body: bad.body,
    });
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(response.status).toBe(bad.status);
    expect(body.error.message).toContain(bad.message);
  });

  it('logs the request id and the job id, and never a key', async () => {
    const { body } = await submit({
      type: 'embedding',
      request: { model: 'openai/text-embedding-3-small', input: 'logged' },
    });
    await call(`/v1/jobs/${String(body.id)}?wait=20`);
    const apiLine = stack.api.lines.find((line) => line.includes('"POST"') && line.includes(String(body.id)));
    expect(apiLine).toBeDefined();
    expect(JSON.parse(apiLine ?? '{}')).toMatchObject({ reqId: expect.any(String), jobId: body.id });
    // The worker logs the end just after recording it, so its line can trail the answer.
    await expect
      .poll(
        () => stack.workers.flatMap((worker) => worker.lines).filter((line) => line.includes(String(body.id))).length,
      )
      .toBeGreaterThan(0);
    const everything = [stack.api, ...stack.workers].flatMap((process) => process.lines).join('\n');
    for (const secret of [
      ...Object.values(stack.keys),
      'sk-simulator-key',
      'sk-ant-simulator-key',
      'gemini-simulator-key',
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('stays up and keeps every job after all that bad input', async () => {
    const health = await fetch(`${stack.apiUrl}/healthz`);
    expect(health.status).toBe(200);
    const { body } = await call('/v1/jobs?status=queued&limit=100');
    expect(body.data).toEqual([]);
  });
});
