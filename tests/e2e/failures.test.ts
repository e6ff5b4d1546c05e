import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { llmqClient } from '../support/llmq-client.js';

let stack: Stack;
let client: ReturnType<typeof llmqClient>;

beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 2,
    workerEnv: { LLMQ_CIRCUIT_FAILURES: '3', LLMQ_CIRCUIT_OPEN_MS: '1500' },
  });
  client = llmqClient(stack);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await client.resetSimulator();
});

const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  type: 'chat',
  request: { model, messages: [{ role: 'user', content: `hello ${Math.random()}` }], max_tokens: 10 },
  ...extra,
});

describe('failure handling', () => {
  it('429 storm with retry-after-ms: no attempt before the hint, and the jobs succeed afterwards', async () => {
    await client.faults([{ match: { model: 'storm-*' }, fault: '429', retry_after_ms: 800, count: 4 }]);
    const ids = await Promise.all(
      ['storm-a', 'storm-b'].map(async (model) =>
        String((await client.submit(chat(`openai/${model}`, { attempts: 4 }))).body.id),
      ),
    );
    for (const id of ids) {
      const job = await client.waitForEnd(id);
      expect(job.status).toBe('succeeded');
      expect(job.attempt_log.length).toBeGreaterThanOrEqual(2);
      for (let index = 1; index < job.attempt_log.length; index += 1) {
        const previous = job.attempt_log[index - 1];
        const current = job.attempt_log[index];
        if (previous === undefined || current === undefined) continue;
        expect(previous.error?.type).toBe('rate_limit');
        const gapMs = current.started_at * 1000 - (previous.started_at * 1000 + previous.duration_ms);
        expect(gapMs).toBeGreaterThanOrEqual(790);
      }
    }
  });

  it.each([
    ['500', 'provider_error'],
    ['529', 'overloaded'],
    ['reset', 'connection'],
  ])('retries %s with backoff, then falls back to the next model; the job shows each attempt', async (fault, kind) => {
    const model = `flaky-${fault}`;
    await client.faults([{ match: { model }, fault }]);
    const { body } = await client.submit(
      chat(`openai/${model}`, { attempts: 2, fallbacks: ['anthropic/claude-haiku-4-5'] }),
    );
    const job = await client.waitForEnd(String(body.id));
    expect(job.status).toBe('succeeded');
    expect(job.answered_by).toBe('anthropic/claude-haiku-4-5');
    expect(job.result?.provider).toBe('anthropic');
    expect(job.attempt_log.map((entry) => [entry.model, entry.status, entry.error?.type])).toEqual([
      [`openai/${model}`, 'failed', kind],
      [`openai/${model}`, 'failed', kind],
      ['anthropic/claude-haiku-4-5', 'succeeded', undefined],
    ]);
    expect(job.attempts).toBe(3);
  });

  it('times out a hanging call per attempt and moves on', async () => {
    await client.faults([{ match: { model: 'slowpoke' }, fault: 'hang' }]);
    const { body } = await client.submit(
      chat('openai/slowpoke', { attempts: 1, timeout_s: 0.5, fallbacks: ['openai/gpt-4o-mini'] }),
    );
    const job = await client.waitForEnd(String(body.id));
    expect(job.status).toBe('succeeded');
    expect(job.attempt_log[0]?.error?.type).toBe('timeout');
    expect(job.attempt_log[0]?.duration_ms).toBeLessThan(2_000);
    expect(job.answered_by).toBe('openai/gpt-4o-mini');
  });

  it('insufficient_quota: exactly one provider call, failed within a second with quota_exceeded', async () => {
    await client.faults([{ match: { model: 'broke' }, fault: 'insufficient_quota' }]);
    const submittedAt = Date.now();
    const { body } = await client.submit(chat('openai/broke'));
    const job = await client.waitForEnd(String(body.id));
    const endedAt = Date.now();
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ type: 'quota_exceeded', provider: 'openai', status: 429 });
    expect(endedAt - submittedAt).toBeLessThan(1_000);
    expect((await client.stats()).requests.byModel.broke).toBe(1);
  });

  it('fails at once, without retrying, on an invalid request from the provider', async () => {
    // OpenAI refuses json_object when no message mentions JSON; our schema cannot know that.
    const { body } = await client.submit({
      type: 'chat',
      request: {
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'json_object' },
      },
    });
    const job = await client.waitForEnd(String(body.id));
    expect(job.status).toBe('failed');
    expect(job.error?.type).toBe('invalid_request');
    expect(job.attempts).toBe(1);
  });

  it('a circuit opens across two worker processes, sends jobs to their fallback, and closes after recovery', async () => {
    await client.faults([{ match: { model: 'sick' }, fault: '500' }]);
    const submitOne = async () =>
      String((await client.submit(chat('openai/sick', { attempts: 1, fallbacks: ['openai/gpt-4o-mini'] }))).body.id);
    const [first, second] = stack.workers;
    if (first === undefined || second === undefined) throw new Error('two workers expected');
    // Worker 1 alone meets three failures: the circuit opens.
    second.process.kill('SIGSTOP');
    try {
      for (let index = 0; index < 3; index += 1) {
        expect((await client.waitForEnd(await submitOne())).answered_by).toBe('openai/gpt-4o-mini');
      }
    } finally {
      second.process.kill('SIGCONT');
    }
    // Worker 2 alone, which never saw a failure, sends jobs straight to the fallback.
    const before = (await client.stats()).requests.byModel.sick ?? 0;
    first.process.kill('SIGSTOP');
    try {
      const skipped = await Promise.all(Array.from({ length: 4 }, async () => client.waitForEnd(await submitOne())));
      for (const job of skipped) {
        expect(job.answered_by).toBe('openai/gpt-4o-mini');
        expect(job.attempt_log.map((entry) => entry.model)).toEqual(['openai/gpt-4o-mini']);
      }
    } finally {
      first.process.kill('SIGCONT');
    }
    expect((await client.stats()).requests.byModel.sick ?? 0).toBe(before);

    // Recovery: after the open period a probe goes through, succeeds, and the circuit closes.
    await client.faults([]);
    await new Promise((resolve) => setTimeout(resolve, 1_700));
    const probe = await client.waitForEnd(await submitOne());
    expect(probe.answered_by).toBe('openai/sick');
    const after = await Promise.all(Array.from({ length: 3 }, async () => client.waitForEnd(await submitOne())));
    for (const job of after) expect(job.answered_by).toBe('openai/sick');
  });

  it('cancels a running job held by another worker process: the provider connection is closed', async () => {
    await client.faults([{ match: { model: 'forever' }, fault: 'hang' }]);
    const { body } = await client.submit(chat('openai/forever'));
    const id = String(body.id);
    for (let tries = 0; tries < 100 && (await client.stats()).hanging === 0; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await client.stats()).hanging).toBe(1);
    const canceled = await client.cancel(id);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    for (let tries = 0; tries < 100 && (await client.stats()).hanging > 0; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await client.stats()).hanging).toBe(0);
    const job = await client.waitForEnd(id, 2_000);
    expect(job.status).toBe('canceled');
    expect(job.error?.type).toBe('canceled');
    expect((await client.cancel(id)).status).toBe(409);
  });

  it('cancels a queued job before any call', async () => {
    const { body } = await client.submit(chat('openai/gpt-4o-mini', { deadline_s: 60 }));
    const canceled = await client.cancel(String(body.id));
    expect([200, 409]).toContain(canceled.status);
    if (canceled.status === 200) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await client.get(String(body.id))).body.status).toBe('canceled');
    }
  });

  it('fails a job whose deadline passes while it retries', async () => {
    await client.faults([{ match: { model: 'never' }, fault: '503', retry_after_ms: 900 }]);
    const { body } = await client.submit(chat('openai/never', { attempts: 10, deadline_s: 2 }));
    const job = await client.waitForEnd(String(body.id));
    expect(job.status).toBe('failed');
    expect((job.finished_at ?? 0) - job.created_at).toBeLessThanOrEqual(3);
  });
});
