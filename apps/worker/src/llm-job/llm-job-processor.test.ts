import { describe, expect } from 'vitest';
import { jobOutboxKey } from '@llmq/core';
import { redisTest } from '@llmq/devkit/vitest';
import { badRequest, overloaded, startProcessorHarness } from '../__fixtures__/processor-harness.js';

const LOCAL = { providers: { local: { type: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1' } } };

describe('LLM job processor (real Redis and BullMQ, a fake model)', () => {
  redisTest('answers: succeeded, one call logged, the end in the outbox', async ({ redisUrl }) => {
    const harness = await startProcessorHarness({ redisUrl });
    try {
      const id = await harness.submit('openai/gpt-4o-mini');
      const record = await harness.ended(id);
      expect(record).toMatchObject({ status: 'succeeded', attempts: 1, answeredBy: 'openai/gpt-4o-mini' });
      expect(record.attemptLog.map((entry) => entry.status)).toEqual(['succeeded']);
      expect(harness.calls).toHaveLength(1);
      const outbox = await harness.redis.xrange(jobOutboxKey('acme'), '-', '+');
      expect(outbox.map(([, fields]) => fields)).toContainEqual([
        ...['id', id, 'status', 'succeeded', 'type', 'chat'],
        ...['finished_at', expect.any(String), 'model', 'openai/gpt-4o-mini'],
        ...['created_at', expect.any(String), 'started_at', expect.any(String)],
      ]);
    } finally {
      await harness.close();
    }
  });

  redisTest(
    'retries a retryable failure on the same model, then falls back',
    async ({ redisUrl }) => {
      const harness = await startProcessorHarness({
        redisUrl,
        script: [overloaded(), overloaded()],
      });
      try {
        const id = await harness.submit('openai/gpt-4o-mini', { fallbacks: ['openai/gpt-4.1'] });
        const record = await harness.ended(id, 20_000);
        expect(record.status).toBe('succeeded');
        expect(harness.calls.map((call) => call.model)).toEqual([
          'openai/gpt-4o-mini',
          'openai/gpt-4o-mini',
          'openai/gpt-4.1',
        ]);
        expect(record.answeredBy).toBe('openai/gpt-4.1');
        expect(record.attemptLog.map((entry) => `${entry.model}:${entry.status}`)).toEqual([
          'openai/gpt-4o-mini:failed',
          'openai/gpt-4o-mini:failed',
          'openai/gpt-4.1:succeeded',
        ]);
      } finally {
        await harness.close();
      }
    },
    30_000,
  );

  redisTest('fails a non-retryable error at once, classified, after one call', async ({ redisUrl }) => {
    const harness = await startProcessorHarness({ redisUrl, script: [badRequest()] });
    try {
      const record = await harness.ended(await harness.submit('openai/gpt-4o-mini'));
      expect(record.status).toBe('failed');
      expect(record.error).toMatchObject({ type: 'invalid_request', provider: 'openai', status: 400 });
      expect(harness.calls).toHaveLength(1);
    } finally {
      await harness.close();
    }
  });

  redisTest('a job past its deadline fails timeout without a call', async ({ redisUrl }) => {
    const harness = await startProcessorHarness({ redisUrl });
    try {
      const id = await harness.submit('openai/gpt-4o-mini', { data: { deadlineAt: Date.now() - 1 } });
      const record = await harness.ended(id);
      expect(record.error).toEqual({ type: 'timeout', message: 'the job passed its deadline' });
      expect(harness.calls).toHaveLength(0);
    } finally {
      await harness.close();
    }
  });

  redisTest('a model the config no longer serves fails invalid_request, naming no provider', async ({ redisUrl }) => {
    const harness = await startProcessorHarness({ redisUrl });
    try {
      // Queued while `local` was configured; this worker's config has no `local`.
      const id = await harness.submit('local/llama');
      const record = await harness.ended(id);
      expect(record.error?.type).toBe('invalid_request');
      expect(record.error?.provider).toBeUndefined();
      expect(record.error?.message).toMatch(/local\/llama/);
      expect(harness.calls).toHaveLength(0);
    } finally {
      await harness.close();
    }
  });

  redisTest(
    'under rpm 1 the second job waits its turn, or fails at once when its deadline comes first',
    async ({ redisUrl }) => {
      const harness = await startProcessorHarness({
        redisUrl,
        config: { ...LOCAL, limits: { 'openai/limited': { rpm: 1 } } },
      });
      try {
        expect((await harness.ended(await harness.submit('openai/limited'))).status).toBe('succeeded');
        const patient = await harness.submit('openai/limited', { data: { deadlineAt: Date.now() + 180_000 } });
        const hurried = await harness.submit('openai/limited', { data: { deadlineAt: Date.now() + 5_000 } });
        expect(await harness.ended(hurried)).toMatchObject({ status: 'failed', error: { type: 'timeout' } });
        await expect
          .poll(async () => (await harness.store.get('acme', patient))?.waitingFor, { timeout: 5_000 })
          .toBe('fair_share');
        const waiting = await harness.store.get('acme', patient);
        // One minute after the first call, not a hundred.
        expect((waiting?.earliestStartAt ?? 0) - Date.now()).toBeLessThan(61_000);
        expect((waiting?.earliestStartAt ?? 0) - Date.now()).toBeGreaterThan(40_000);
        expect(harness.calls).toHaveLength(1);
      } finally {
        await harness.close();
      }
    },
  );
});
