import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_EVENTS_CHANNEL, jobOutboxKey, jobRecordKey, createRedisConnection } from '@llmq/core';
import { startLlmqStack } from '@llmq/devkit';
import { startWebhookReceiver } from '../../packages/core/src/webhooks/__fixtures__/webhook-receiver.js';
import { llmqClient } from '../support/llmq-client.js';
import { apiClient, WEBHOOK_STACK_CONFIG } from './webhooks-support.js';

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
      // Past the lock's 1.5 s: the next worker's first stall check, as it starts, finds the lock
      // lapsed with no stalls left and BullMQ fails the job before that worker is ready.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
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
  it('5 s of a full Redis while 10 calls run: every job succeeds, each provider call made once, every webhook sent', async () => {
    const [stack, receiver] = await Promise.all([
      startLlmqStack({ workers: 1, config: WEBHOOK_STACK_CONFIG, simulatorEnv: { SIM_LATENCY_MS: '2500' } }),
      startWebhookReceiver({ host: '127.0.0.2' }),
    ]);
    receiver.handle((_request, response) => void response.writeHead(200).end('ok'));
    const admin = createRedisConnection(stack.redisUrl);
    try {
      const client = llmqClient(stack);
      const ids: string[] = [];
      for (let index = 0; index < 10; index += 1) {
        const webhook = { url: `${receiver.url}/full/${index}` };
        ids.push(String((await client.submit({ ...chat('openai/gpt-4o-mini'), webhook })).body.id));
      }
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
      await expect.poll(() => new Set(receiver.received.map((entry) => entry.path)).size, { timeout: 15_000 }).toBe(10);
    } finally {
      await Promise.all([admin.quit(), receiver.close()]);
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
      // It is past the limiter's horizon, so it waits for its (fair) turn, due at the soonest then.
      const patient = await submit(120);
      await expect
        .poll(async () => (await client.get(patient)).body.waiting_for, { timeout: 10_000 })
        .toBe('fair_share');
      const view = (await client.get(patient)).body as { earliest_start_at: number; created_at: number };
      expect(view.earliest_start_at - view.created_at).toBeLessThan(32);

      // Canceled while parked, it gives its slot back: the next job gets that turn, not the one after.
      expect((await client.cancel(patient)).status).toBe(200);
      const next = await submit(120);
      await expect.poll(async () => (await client.get(next)).body.waiting_for, { timeout: 10_000 }).toBe('fair_share');
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

describe('SIGKILL during the end announcement', () => {
  it('a worker killed as its jobs end: every end it announced and never handled is handled by another worker, once, with no second call', async () => {
    const [stack, receiver] = await Promise.all([
      startLlmqStack({
        workers: 1,
        config: WEBHOOK_STACK_CONFIG,
        // Short takeover times so the test need not wait the production 30 s.
        workerEnv: {
          LLMQ_OUTBOX_CLAIM_IDLE_MS: '1000',
          LLMQ_OUTBOX_SWEEP_MS: '300',
          LLMQ_LOCK_DURATION_MS: '3000',
          LLMQ_STALLED_INTERVAL_MS: '1000',
        },
        // Every call answers about 1.5 s after it starts: the jobs end together.
        simulatorEnv: { SIM_LATENCY_MS: '1500' },
      }),
      startWebhookReceiver({ host: '127.0.0.2' }),
    ]);
    receiver.handle((_request, response) => void response.writeHead(200).end('ok'));
    const events = createRedisConnection(stack.redisUrl);
    const admin = createRedisConnection(stack.redisUrl);
    try {
      const api = apiClient(stack);
      const outbox = jobOutboxKey('alpha');
      const leftAtKill: number[] = [];
      // A round whose kill came after the dispatcher had caught up proves nothing: try again, at most 3 times.
      for (let round = 0; round < 3 && !leftAtKill.some((left) => left > 0); round += 1) {
        const victim = stack.workers.at(-1);
        if (victim === undefined) throw new Error('no worker');
        let killed: () => void = () => undefined;
        const kill = new Promise<void>((resolve) => (killed = resolve));
        // Killed at the fifth end it writes: some of the ends before it are still being handled.
        let ends = 0;
        const onEvent = (_channel: string, message: string) => {
          if ((JSON.parse(message) as { status?: string }).status !== 'succeeded') return;
          ends += 1;
          if (ends !== 5) return;
          victim.process.kill('SIGKILL');
          killed();
        };
        events.on('message', onEvent);
        await events.subscribe(JOB_EVENTS_CHANNEL);
        const ids = await Promise.all(
          Array.from({ length: 40 }, async (_, index) => {
            const { status, body } = await api.submit(
              `${receiver.url}/r${round}/${index}`,
              `round ${round} job ${index}`,
            );
            expect(status).toBe(202);
            return String(body.id);
          }),
        );
        await kill;
        events.off('message', onEvent);
        await events.unsubscribe(JOB_EVENTS_CHANNEL);
        await victim.stop('SIGKILL');
        // No worker runs now: the ends announced and not yet handled are the entries left in the outbox.
        const left = await admin.xlen(outbox);
        // Of those, the ones the dead worker had taken (read, not acknowledged); the rest it never read.
        const [taken] = (await admin.xpending(outbox, 'dispatch')) as [number];
        leftAtKill.push(left);
        const endedAtKill = (
          await Promise.all(
            ids.map(async (id) =>
              (await admin.hget(jobRecordKey('alpha', id), 'status')) === 'succeeded' ? id : null,
            ),
          )
        ).filter((id) => id !== null);
        expect(endedAtKill.length).toBeGreaterThan(0);

        await stack.addWorker();
        const jobs = await Promise.all(ids.map((id) => api.settled(id, ['delivered'])));
        for (const [index, job] of jobs.entries()) {
          expect(job.status).toBe('succeeded');
          const received = receiver.received.filter((entry) => entry.path === `/r${round}/${index}`);
          expect(received.length).toBeGreaterThan(0);
          expect(new Set(received.map((entry) => entry.headers['webhook-id']))).toEqual(
            new Set([`msg_${job.id}_succeeded`]),
          );
        }
        // A job whose end was written before the kill was never called again.
        for (const id of endedAtKill) {
          const { body } = await api.call(`/v1/jobs/${id}`);
          expect(body.attempts).toBe(1);
        }
        await expect.poll(() => admin.xlen(outbox), { timeout: 10_000 }).toBe(0);
        console.log(
          `sigkill during the end announcement, round ${round + 1}: ${endedAtKill.length} of 40 jobs ended at the kill, ` +
            `${left} of their ends not yet handled (${taken} taken by the dead worker); after takeover all 40 succeeded, every webhook delivered, ` +
            `no ended job called twice`,
        );
      }
      expect(leftAtKill.some((left) => left > 0)).toBe(true);
    } finally {
      await Promise.all([events.quit(), admin.quit(), stack.stop(), receiver.close()]);
    }
  }, 120_000);
});
