import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  bullmqAttempts,
  CircuitBreaker,
  createJobId,
  createLlmQueue,
  createLogger,
  createModelCatalog,
  JobStore,
  LimitRules,
  llmBackoffStrategy,
  LLM_QUEUE_NAME,
  llmqConfigSchema,
  ProviderError,
  QUEUE_PREFIX,
  RateLimiter,
  resolveModel,
  type ChatCompletionResult,
  type JobRecord,
  type LlmJobData,
  type ModelReference,
} from '@llmq/core';
import { CancelRegistry } from '../cancel-registry.js';
import { CircuitGate } from '../circuit-gate.js';
import { startFairDispatcher } from '../fair-dispatcher.js';
import { LimiterGate } from '../limiter-gate.js';
import { createLlmJobProcessor, type LlmJobReturn } from '../llm-job/llm-job-processor.js';
import { ModelRouter } from '../model-router.js';

/** What the fake model does on one call: answer, or throw this error. */
export type FakeCall = 'answer' | ProviderError;

export interface FakeModelCall {
  model: string;
  jobId: string;
}

export function answer(model: string, text = 'hello'): ChatCompletionResult {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 0,
    model,
    provider: model.slice(0, model.indexOf('/')),
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
}

export const overloaded = (provider = 'openai') =>
  new ProviderError({
    provider,
    kind: 'overloaded',
    retryable: true,
    status: 529,
    message: 'overloaded',
    retryAfterMs: 10,
  });
export const badRequest = (provider = 'openai') =>
  new ProviderError({ provider, kind: 'invalid_request', retryable: false, status: 400, message: 'bad request' });

/**
 * The LLM processor in-process, on a real Redis and a real BullMQ worker, with a fake model in
 * place of the provider call: `script` says what each call does, in order (then it answers).
 */
export async function startProcessorHarness(options: { redisUrl: string; config?: unknown; script?: FakeCall[] }) {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const config = llmqConfigSchema.parse(options.config ?? {});
  const catalog = createModelCatalog(config);
  const store = new JobStore({ redis });
  const queue = createLlmQueue({ connection: redis });
  const logger = createLogger({ name: 'processor-test', level: 'silent' });
  const subscriber = new Redis(options.redisUrl);
  const cancels = await CancelRegistry.start({ subscriber, logger });
  const circuit = new CircuitGate({ breaker: new CircuitBreaker(redis, { consecutiveFailures: 100 }), logger });
  const script = [...(options.script ?? [])];
  const calls: FakeModelCall[] = [];
  const limiter = new RateLimiter(redis);
  const rules = new LimitRules(config);
  const fair = startFairDispatcher({ redis, limiter, rules, queue, logger, intervalMs: 50 });
  const processor = createLlmJobProcessor({
    store,
    router: new ModelRouter({ catalog, providers: new Map() }),
    gate: new LimiterGate({ limiter, rules, wake: fair.wake, queuedOn: fair.queuedOn }),
    circuit,
    cancels,
    logger,
    streamIdleTimeoutMs: 5_000,
    callProvider: async (record: JobRecord, { reference }: { reference: ModelReference }) => {
      const model = `${reference.provider}/${reference.modelId}`;
      calls.push({ model, jobId: record.id });
      const next = script.shift() ?? 'answer';
      if (next !== 'answer') throw next;
      return { result: answer(model), usage: { input_tokens: 3, output_tokens: 2 } };
    },
  });
  const worker = new Worker<LlmJobData, LlmJobReturn>(LLM_QUEUE_NAME, processor, {
    connection: redis.duplicate(),
    prefix: QUEUE_PREFIX,
    concurrency: 4,
    settings: { backoffStrategy: llmBackoffStrategy },
  });

  /** Submits a chat job as the API would; `data` overrides what BullMQ carries. */
  const submit = async (model: string, extra: { fallbacks?: string[]; data?: Partial<LlmJobData> } = {}) => {
    const tenant = 'acme';
    const jobId = createJobId();
    const submission = {
      type: 'chat' as const,
      request: { model, messages: [{ role: 'user' as const, content: 'hi' }], max_tokens: 10 },
      ...(extra.fallbacks ? { fallbacks: extra.fallbacks } : {}),
    };
    await store.create({ tenant, jobId, submission, createdAt: Date.now() });
    let chainLength = 0;
    for (const name of [model, ...(extra.fallbacks ?? [])]) {
      const resolved = resolveModel(catalog, name);
      chainLength += resolved.ok ? resolved.chain.length : 1;
    }
    const data: LlmJobData = {
      tenant,
      jobId,
      type: 'chat',
      model,
      tokens: 20,
      attemptsPerModel: 2,
      attemptTimeoutMs: 5_000,
      deadlineAt: Date.now() + 60_000,
      ...(extra.fallbacks ? { fallbacks: extra.fallbacks } : {}),
      ...extra.data,
    };
    await queue.add('chat', data, { jobId, attempts: bullmqAttempts(data.attemptsPerModel, chainLength) });
    return jobId;
  };

  /** The record once it has ended (polls). */
  const ended = async (jobId: string, timeoutMs = 10_000): Promise<JobRecord> => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      const record = await store.get('acme', jobId);
      if (record && ['succeeded', 'failed', 'canceled'].includes(record.status)) return record;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`job ${jobId} did not end`);
  };

  return {
    redis,
    store,
    queue,
    calls,
    submit,
    ended,
    close: async () => {
      await worker.close();
      await fair.stop();
      circuit.stop();
      await queue.close();
      await subscriber.quit();
      await redis.quit();
    },
  };
}
