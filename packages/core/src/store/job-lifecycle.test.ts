import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { createJobId } from '../jobs/job-id.js';
import type { JobSubmission } from '../jobs/job-submission-schema.js';
import type { ChatCompletionResult } from '../providers/chat-completion.js';
import { BUDGET_RESERVED_FIELD, budgetKey } from '../cost/usage-keys.js';
import { parseEndNotice } from './job-end-notice.js';
import { jobOutboxKey } from './job-keys.js';
import { JobLifecycle } from './job-lifecycle.js';
import { RECORD_FIELD } from './job-record-fields.js';
import { JobStore } from './job-store.js';

const submission: JobSubmission = {
  type: 'chat',
  request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
};

const result: ChatCompletionResult = {
  id: 'c',
  object: 'chat.completion',
  created: 0,
  model: 'gpt-4o-mini',
  provider: 'openai',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
};

const test = redisTest.extend('lifecycle', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(() => void redis.quit().catch(() => undefined));
  const store = new JobStore({ redis, retentionMs: 60_000 });
  const tenant = `t${randomUUID().slice(0, 8)}`;
  const jobId = createJobId();
  await store.create({ tenant, jobId, submission, createdAt: Date.now() });
  return { redis, store, lifecycle: new JobLifecycle(store), job: { tenant, jobId } };
});

const attempt = (status: 'failed' | 'succeeded') => ({
  model: 'openai/gpt-4o-mini',
  status,
  started_at: 1,
  duration_ms: 5,
});

describe('JobLifecycle', () => {
  test('start counts the attempt on its model, park can take it back, requeue logs and moves on', async ({
    lifecycle: { store, lifecycle, job },
  }) => {
    const started = await lifecycle.start({ ...job, at: 1_000, modelIndex: 0, claim: 'run-1' });
    expect(started.outcome).toBe('started');
    if (started.outcome !== 'started') return;
    expect(started.record).toMatchObject({
      status: 'running',
      attempts: 1,
      modelIndex: 0,
      modelAttempts: 1,
      startedAt: 1_000,
    });

    expect(
      await lifecycle.park({ ...job, run: 'run-1', reason: 'rate_limit', earliestStartAt: 5_000, undoAttemptOn: 0 }),
    ).toBe(true);
    expect(await store.get(job.tenant, job.jobId)).toMatchObject({
      status: 'queued',
      attempts: 0,
      modelAttempts: 0,
      waitingFor: 'rate_limit',
      earliestStartAt: 5_000,
    });

    await lifecycle.start({ ...job, at: 6_000, modelIndex: 0, claim: 'run-1' });
    expect(await lifecycle.requeue({ ...job, run: 'run-1', attempt: attempt('failed'), modelIndex: 1 })).toBe(true);
    const requeued = await store.get(job.tenant, job.jobId);
    expect(requeued).toMatchObject({
      status: 'queued',
      modelIndex: 1,
      attemptLog: [attempt('failed')],
      startedAt: 1_000,
    });
  });

  test('succeed writes the answer once; a later end is refused as already ended', async ({
    lifecycle: { store, lifecycle, job },
  }) => {
    await lifecycle.start({ ...job, at: 1_000, modelIndex: 0 });
    const answered = await lifecycle.succeed({
      ...job,
      result,
      usage: { input_tokens: 1, output_tokens: 1 },
      answeredBy: 'openai/gpt-4o-mini',
      at: 2_000,
      attempt: attempt('succeeded'),
    });
    expect(answered).toBe(true);
    expect(await store.get(job.tenant, job.jobId)).toMatchObject({
      status: 'succeeded',
      answeredBy: 'openai/gpt-4o-mini',
      finishedAt: 2_000,
      result,
    });
    expect(await lifecycle.fail({ ...job, error: { type: 'internal', message: 'late' }, at: 3_000 })).toBe(
      'already-ended',
    );
    expect((await lifecycle.cancel({ ...job, at: 3_000 })).outcome).toBe('conflict');
    expect(await lifecycle.start({ ...job, at: 4_000, modelIndex: 0 })).toEqual({
      outcome: 'ended',
      status: 'succeeded',
    });
  });

  test('a run another run took the job from cannot park, requeue, succeed or fail it', async ({
    lifecycle: { store, lifecycle, job },
  }) => {
    await lifecycle.start({ ...job, at: 1_000, modelIndex: 0, claim: 'stale' });
    await lifecycle.start({ ...job, at: 2_000, modelIndex: 0, claim: 'owner' });
    const stale = { ...job, run: 'stale' };
    expect(await lifecycle.park({ ...stale, reason: 'circuit_open', earliestStartAt: 1 })).toBe(false);
    expect(await lifecycle.requeue({ ...stale, attempt: attempt('failed'), modelIndex: 0 })).toBe(false);
    expect(
      await lifecycle.succeed({
        ...stale,
        result,
        usage: { input_tokens: 1, output_tokens: 1 },
        answeredBy: 'x',
        at: 3,
      }),
    ).toBe(false);
    expect(await lifecycle.fail({ ...stale, error: { type: 'internal', message: 'x' }, at: 3 })).toBe('gone');
    expect((await store.get(job.tenant, job.jobId))?.status).toBe('running');
    expect(await lifecycle.fail({ ...job, run: 'owner', error: { type: 'timeout', message: 'late' }, at: 4 })).toBe(
      'ended',
    );
  });

  test('cancel ends a queued job with the canceled error', async ({ lifecycle: { store, lifecycle, job } }) => {
    expect((await lifecycle.cancel({ ...job, at: 5_000 })).outcome).toBe('ok');
    expect(await store.get(job.tenant, job.jobId)).toMatchObject({
      status: 'canceled',
      finishedAt: 5_000,
      error: { type: 'canceled', message: 'canceled by the client' },
    });
  });

  test('an end without a ledger of its own (reconciler, final failure) gives the budget reservation back', async ({
    lifecycle: { redis, store, lifecycle },
  }) => {
    const tenant = `t${randomUUID().slice(0, 8)}`;
    const held = createJobId();
    const other = createJobId();
    // Two accepted jobs holding 700 and 300 nano-dollars of the tenant's budget.
    await redis.hset(budgetKey(tenant), BUDGET_RESERVED_FIELD, 1_000);
    await store.create({
      tenant,
      jobId: held,
      submission,
      createdAt: Date.now(),
      extraFields: { [RECORD_FIELD.budgetReserved]: '700' },
    });
    await store.create({
      tenant,
      jobId: other,
      submission,
      createdAt: Date.now(),
      extraFields: { [RECORD_FIELD.budgetReserved]: '300' },
    });
    expect(
      await lifecycle.fail({ tenant, jobId: held, error: { type: 'internal', message: 'lost' }, at: Date.now() }),
    ).toBe('ended');
    expect(await redis.hget(budgetKey(tenant), BUDGET_RESERVED_FIELD)).toBe('300');
    // A second end is refused and releases nothing more.
    expect(
      await lifecycle.fail({ tenant, jobId: held, error: { type: 'internal', message: 'again' }, at: Date.now() }),
    ).toBe('already-ended');
    await lifecycle.cancel({ tenant, jobId: other, at: Date.now() });
    expect(await redis.hget(budgetKey(tenant), BUDGET_RESERVED_FIELD)).toBe('0');
  });

  test("every end's notice carries the job's model and its times, whoever ended it", async ({
    lifecycle: { redis, store, lifecycle },
  }) => {
    const tenant = `t${randomUUID().slice(0, 8)}`;
    const [ran, waited] = [createJobId(), createJobId()];
    for (const jobId of [ran, waited]) await store.create({ tenant, jobId, submission, createdAt: 500 });
    await lifecycle.start({ tenant, jobId: ran, at: 1_000, modelIndex: 0 });
    await lifecycle.start({ tenant, jobId: ran, at: 2_000, modelIndex: 0 });
    await lifecycle.succeed({
      tenant,
      jobId: ran,
      result,
      usage: { input_tokens: 1, output_tokens: 1 },
      answeredBy: 'openai/gpt-4o-mini',
      at: 3_000,
    });
    await lifecycle.cancel({ tenant, jobId: waited, at: 4_000 });

    const entries = await redis.xrange(jobOutboxKey(tenant), '-', '+');
    const notices = entries.map(([, fields]) => parseEndNotice(tenant, fields));
    expect(notices).toMatchObject([
      {
        jobId: ran,
        status: 'succeeded',
        model: 'openai/gpt-4o-mini',
        createdAt: 500,
        startedAt: 1_000,
        finishedAt: 3_000,
      },
      {
        jobId: waited,
        status: 'canceled',
        model: 'openai/gpt-4o-mini',
        createdAt: 500,
        startedAt: null,
        finishedAt: 4_000,
      },
    ]);
  });
});
