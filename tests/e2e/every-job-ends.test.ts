import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startLlmqStack } from '@llmq/devkit';
import { llmqClient } from '../support/llmq-client.js';

const LOCAL =
  'providers:\n  local:\n    type: openai-compatible\n    base_url: "{simulator}/v1"\naliases:\n  nearby: [local/llama]\n';

const chat = (model: string) => ({
  type: 'chat',
  request: { model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 },
  deadline_s: 60,
});

describe('every accepted job ends', () => {
  it('config drift: jobs queued for a provider or an alias the workers no longer have fail at once, classified', async () => {
    // The API knows `local` and `nearby`; no worker runs until the jobs are queued.
    const stack = await startLlmqStack({ workers: 0, config: LOCAL });
    try {
      const client = llmqClient(stack);
      const ids: string[] = [];
      for (const model of ['local/llama', 'nearby']) {
        for (let index = 0; index < 8; index += 1) {
          const { status, body } = await client.submit(chat(model));
          expect(status).toBe(202);
          ids.push(String(body.id));
        }
      }
      const dir = await mkdtemp(join(tmpdir(), 'llmq-drift-'));
      const drifted = join(dir, 'llmq.yaml');
      await writeFile(drifted, 'providers: {}\n');
      await stack.addWorker({ LLMQ_CONFIG: drifted });
      const jobs = await Promise.all(ids.map((id) => client.waitForEnd(id, 20_000)));
      for (const job of jobs) {
        expect(job.status).toBe('failed');
        expect(job.error?.type).toBe('invalid_request');
        expect(job.error?.provider).toBeUndefined();
        expect(job.error?.message).toMatch(/local\/llama|nearby/);
      }
      // Classified, not retried: nothing reached a provider.
      expect((await client.stats()).requests.total).toBe(0);
    } finally {
      await stack.stop();
    }
  }, 60_000);

  it('a job BullMQ gives up on (its workers killed past the stall limit) ends failed instead of staying running', async () => {
    const stack = await startLlmqStack({
      workers: 1,
      workerEnv: { LLMQ_LOCK_DURATION_MS: '1500', LLMQ_STALLED_INTERVAL_MS: '700', LLMQ_MAX_STALLED_COUNT: '0' },
      simulatorEnv: { SIM_LATENCY_MS: '30000' },
    });
    try {
      const client = llmqClient(stack);
      const { body } = await client.submit(chat('openai/gpt-4o-mini'));
      const id = String(body.id);
      await expect.poll(async () => (await client.get(id)).body.status, { timeout: 10_000 }).toBe('running');
      const victim = stack.workers[0];
      if (victim === undefined) throw new Error('no worker');
      victim.process.kill('SIGKILL');
      // The next worker's stall check finds the job's lock lapsed with no stalls left: BullMQ fails it.
      await stack.addWorker();
      const job = await client.waitForEnd(id, 20_000);
      expect(job.status).toBe('failed');
      expect(job.error?.type).toBe('internal');
      expect(job.error?.message).toMatch(/llmq gave the job up: .*stalled/);
    } finally {
      await stack.stop();
    }
  }, 60_000);
});

describe('Redis full mid-run', () => {
  it('5 s of a full Redis while 10 calls run: every job succeeds, each provider call made once', async () => {
    const stack = await startLlmqStack({ workers: 1, simulatorEnv: { SIM_LATENCY_MS: '2500' } });
    const admin = new Redis(stack.redisUrl);
    try {
      const client = llmqClient(stack);
      const ids: string[] = [];
      for (let index = 0; index < 10; index += 1)
        ids.push(String((await client.submit(chat('openai/gpt-4o-mini'))).body.id));
      await expect
        .poll(async () => (await client.stats()).inFlight.current, { timeout: 10_000, interval: 50 })
        .toBe(10);
      await admin.config('SET', 'maxmemory', '1');
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      await admin.config('SET', 'maxmemory', '0');
      const jobs = await Promise.all(ids.map((id) => client.waitForEnd(id, 30_000)));
      expect(jobs.map((job) => job.status)).toEqual(ids.map(() => 'succeeded'));
      expect(jobs.map((job) => job.attempts)).toEqual(ids.map(() => 1));
      expect((await client.stats()).requests.total).toBe(10);
    } finally {
      await admin.quit();
      await stack.stop();
    }
  }, 60_000);
});

describe('deadlines behind the limiter', () => {
  it('a job whose turn comes after its deadline fails timeout at once; one canceled while parked gives its slot back', async () => {
    // rpm 2: one call now, then one every ~30 s.
    const stack = await startLlmqStack({ workers: 1, config: 'limits:\n  openai/gpt-4o-mini: { rpm: 2 }\n' });
    try {
      const client = llmqClient(stack);
      const submit = async (deadlineSeconds: number) =>
        String((await client.submit({ ...chat('openai/gpt-4o-mini'), deadline_s: deadlineSeconds })).body.id);
      const first = await submit(60);
      expect((await client.waitForEnd(first, 10_000)).status).toBe('succeeded');
      const hurried = await Promise.all([submit(5), submit(5), submit(5)]);
      for (const id of hurried) {
        const job = await client.waitForEnd(id, 10_000);
        expect(job.status).toBe('failed');
        expect(job.error?.type).toBe('timeout');
        // At once, not at the reservation (up to 90 s away) nor past the deadline.
        expect(job.finished_at ?? Infinity).toBeLessThan(job.created_at + 5);
      }
      // The slots the hurried jobs were offered were given back: the next job is due in one refill.
      const patient = await submit(120);
      await expect
        .poll(async () => (await client.get(patient)).body.waiting_for, { timeout: 10_000 })
        .toBe('rate_limit');
      const view = (await client.get(patient)).body as { earliest_start_at: number; created_at: number };
      expect(view.earliest_start_at - view.created_at).toBeLessThan(32);

      // Canceled while parked, it gives its slot back: the next job gets that turn, not the one after.
      expect((await client.cancel(patient)).status).toBe(200);
      const next = await submit(120);
      await expect.poll(async () => (await client.get(next)).body.waiting_for, { timeout: 10_000 }).toBe('rate_limit');
      const nextView = (await client.get(next)).body as { earliest_start_at: number };
      expect(Math.abs(nextView.earliest_start_at - view.earliest_start_at)).toBeLessThan(3);
    } finally {
      await stack.stop();
    }
  }, 60_000);
});

describe('a run that loses its lock', () => {
  it('is aborted and writes nothing: the job ends once, by the worker that took it over', async () => {
    const fastStalls = { LLMQ_LOCK_DURATION_MS: '1500', LLMQ_STALLED_INTERVAL_MS: '500' };
    // Calls long enough that the frozen run's is still pending when it thaws, however loaded the box.
    const stack = await startLlmqStack({
      workers: 1,
      workerEnv: fastStalls,
      simulatorEnv: { SIM_LATENCY_MS: '12000' },
    });
    try {
      const client = llmqClient(stack);
      const id = String((await client.submit(chat('openai/gpt-4o-mini'))).body.id);
      await expect
        .poll(async () => (await client.get(id)).body.status, { timeout: 10_000, interval: 50 })
        .toBe('running');
      const frozen = stack.workers[0];
      if (frozen === undefined) throw new Error('no worker');
      frozen.process.kill('SIGSTOP');
      await stack.addWorker();
      // The rescuer takes the job over once the frozen worker's lock lapses, and calls again.
      await expect.poll(async () => (await client.get(id)).body.attempts, { timeout: 15_000, interval: 100 }).toBe(2);
      frozen.process.kill('SIGCONT');
      await expect
        .poll(() => frozen.lines.some((line) => line.includes('lost the lock of a running job')), { timeout: 10_000 })
        .toBe(true);
      const job = await client.waitForEnd(id, 40_000);
      expect(job.status).toBe('succeeded');
      // One success in the log: the frozen run's answer, had it come, was never written.
      expect(job.attempt_log.filter((entry) => entry.status === 'succeeded')).toHaveLength(1);
      // The frozen run's call was aborted by the signal, not left to run on.
      await expect
        .poll(() => frozen.lines.some((line) => line.includes('the run lost its lock: its call was aborted')), {
          timeout: 10_000,
        })
        .toBe(true);
    } finally {
      await stack.stop();
    }
  }, 90_000);
});
