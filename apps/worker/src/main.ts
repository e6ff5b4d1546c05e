import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Worker } from 'bullmq';
import { Anthropic } from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import {
  ANTHROPIC_DEFAULT_BASE_URL,
  createLlmQueue,
  warmUpTokenizer,
  checkRedisServer,
  CircuitBreaker,
  createLogger,
  startTraceExport,
  traceExportOptionsFrom,
  lifecycleLogger,
  createModelCatalog,
  createProviders,
  createRedisConnection,
  createGoogleClient,
  JobStore,
  LimitRules,
  llmBackoffStrategy,
  ProviderAccounts,
  LLM_QUEUE_NAME,
  loadLlmqConfig,
  QUEUE_PREFIX,
  RateLimiter,
  type LlmJobData,
} from '@llmq/core';
import { AccountChooser } from './account-chooser.js';
import { createWorkerSpend } from './cache/create-worker-spend.js';
import { CancelRegistry } from './cancel-registry.js';
import { CircuitGate } from './circuit-gate.js';
import { parseWorkerEnv } from './config.js';
import {
  MeteredLimiterGate,
  MeteredWebhookDeliveryLog,
  meterCircuit,
  meterProviderCall,
} from './metrics/metered-parts.js';
import { WorkerMetrics } from './metrics/worker-metrics.js';
import { startFairDispatcher } from './fair-dispatcher.js';
import { startWorkerMetricsServer } from './metrics/worker-metrics-server.js';
import { startEndDispatcher } from './end-dispatcher.js';
import { watchFinalFailures } from './final-failure-watch.js';
import { startReconciler } from './reconciler.js';
import { createLlmJobProcessor, type LlmJobReturn } from './llm-job/llm-job-processor.js';
import { ModelRouter } from './model-router.js';
import { createProviderCall } from './provider-call.js';
import { startProcessStats } from './process-stats.js';
import { AnthropicBatchApi } from './provider-batches/anthropic-batch-api.js';
import { GoogleBatchApi } from './provider-batches/google-batch-api.js';
import { OpenAIBatchApi } from './provider-batches/openai-batch-api.js';
import type { ProviderBatchApi } from './provider-batches/provider-batch-api.js';
import { startProviderBatchRunner } from './provider-batches/provider-batch-runner.js';
import { ProviderBatchStore } from './provider-batches/provider-batch-store.js';
import { startWatchdog } from './watchdog.js';
import { startWebhookDelivery } from './webhooks/start-webhook-delivery.js';

async function main(): Promise<void> {
  const env = parseWorkerEnv(process.env);
  // Traces go to an OTLP endpoint when one is set; otherwise no SDK starts (README, "Tracing").
  const tracing = await startTraceExport(traceExportOptionsFrom(env));
  const logger = createLogger({ name: 'worker', level: env.LOG_LEVEL });
  const config = await loadLlmqConfig(env.LLMQ_CONFIG);
  const catalog = createModelCatalog(config);
  // Cached embedding jobs count tokens; the tokenizer's table is built now, not inside a job.
  warmUpTokenizer();
  const providers = createProviders({
    config,
    builtIn: {
      openai: { apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL },
      anthropic: { apiKey: env.ANTHROPIC_API_KEY, baseURL: env.ANTHROPIC_BASE_URL },
      google: { apiKey: env.GEMINI_API_KEY, baseURL: env.GEMINI_BASE_URL },
    },
    secret: (variable) => process.env[variable],
    // A mounted secret: read once at start, so a rotated key takes effect as workers roll.
    secretFile: (path) => readFileSync(path, 'utf8').trim(),
  });

  // maxRetriesPerRequest null: while Redis is away, commands wait for it rather than fail. No
  // auto-pipelining: each of its pipelines copies every script BullMQ defined on the client.
  const redis = createRedisConnection(env.REDIS_URL, { maxRetriesPerRequest: null });
  // Refuses a Redis that may evict jobs; says what it persists.
  await checkRedisServer(redis, { allowEviction: env.LLMQ_ALLOW_EVICTION, logger: lifecycleLogger(logger) });
  // In-memory counters, served on this worker's own port (see README, "Metrics").
  const metrics = new WorkerMetrics({ maxTenants: env.LLMQ_METRICS_MAX_TENANTS });
  const router = new ModelRouter({ catalog, providers });
  const cancels = await CancelRegistry.start({
    subscriber: createRedisConnection(env.REDIS_URL, { maxRetriesPerRequest: null }),
    logger,
  });
  const webhooks = await startWebhookDelivery({
    redisUrl: env.REDIS_URL,
    redis,
    config: config.webhooks,
    logger,
    deliveries: new MeteredWebhookDeliveryLog(redis, metrics),
  });
  const circuit = new CircuitGate({
    breaker: new CircuitBreaker(redis, {
      consecutiveFailures: env.LLMQ_CIRCUIT_FAILURES,
      failureRate: env.LLMQ_CIRCUIT_FAILURE_RATE,
      openMs: env.LLMQ_CIRCUIT_OPEN_MS,
    }),
    logger,
  });
  const store = new JobStore({ redis, retentionMs: env.LLMQ_RETENTION_SECONDS * 1000 });
  const limitRules = new LimitRules(config);
  const limiter = new RateLimiter(redis);
  const llmQueue = createLlmQueue({ connection: redis });
  // Calls waiting for their fair turn are granted on this clock and woken from delayed.
  const fair = startFairDispatcher({
    redis,
    limiter,
    rules: limitRules,
    queue: llmQueue,
    logger,
    intervalMs: Math.max(20, Math.floor(config.fairness.horizon_ms / 4)),
  });
  const gate = new MeteredLimiterGate({
    limiter,
    rules: limitRules,
    metrics,
    wake: fair.wake,
    queuedOn: fair.queuedOn,
  });
  // Costs and the response cache; their figures go to the metrics.
  const spend = createWorkerSpend({ config, redis, store, router, gate, catalog, logger, observer: metrics });
  // Each job end, announced by the transition that made it (the outbox): the answer into the
  // cache, the webhook queued, the end counted. Cache and webhook first: a throw leaves the entry
  // for another try, and the count must not run twice.
  const ends = await startEndDispatcher({
    redis,
    subscriber: createRedisConnection(env.REDIS_URL, { maxRetriesPerRequest: null }),
    store,
    logger,
    consumer: `${hostname()}:${process.pid}`,
    handle: async (notice) => {
      await spend.hooks.remember(notice);
      await webhooks.onJobEnded(notice.tenant, notice.jobId);
      metrics.jobEnded(notice);
    },
    sweepMs: env.LLMQ_OUTBOX_SWEEP_MS,
    claimIdleMs: env.LLMQ_OUTBOX_CLAIM_IDLE_MS,
  });
  // Deferrable jobs (completion_window) go through the batch APIs of the providers that have one.
  const batchApis = new Map<string, ProviderBatchApi>();
  if (env.OPENAI_API_KEY) {
    const client = new OpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL, maxRetries: 2 });
    batchApis.set('openai', new OpenAIBatchApi(client));
  }
  if (env.ANTHROPIC_API_KEY) {
    const client = new Anthropic({
      apiKey: env.ANTHROPIC_API_KEY,
      baseURL: env.ANTHROPIC_BASE_URL ?? ANTHROPIC_DEFAULT_BASE_URL,
      maxRetries: 2,
    });
    batchApis.set(
      'anthropic',
      new AnthropicBatchApi(client, { defaultMaxTokens: config.anthropic_default_max_tokens }),
    );
  }
  if (env.GEMINI_API_KEY) {
    batchApis.set(
      'google',
      new GoogleBatchApi(createGoogleClient({ apiKey: env.GEMINI_API_KEY, baseURL: env.GEMINI_BASE_URL })),
    );
  }
  const batchPath = {
    store: new ProviderBatchStore(redis),
    apis: batchApis,
    config: config.batching,
    enqueuedTokenLimit: (model: string) => limitRules.batchEnqueuedTokens(model),
  };
  // A provider with accounts calls through the one the documented rule picks (README, "Provider accounts").
  const accounts =
    Object.keys(config.accounts).length === 0
      ? undefined
      : new AccountChooser({ accounts: new ProviderAccounts(config), limiter, rules: limitRules, circuit });
  const processor = createLlmJobProcessor({
    ...(accounts ? { accounts } : {}),
    batchPath,
    store,
    router,
    gate,
    circuit: meterCircuit(circuit, metrics),
    cancels,
    callProvider: meterProviderCall(createProviderCall({ router, catalog, redis, cache: spend.cache }), metrics),
    spend: spend.hooks,
    logger,
    streamIdleTimeoutMs: env.LLMQ_STREAM_IDLE_TIMEOUT_MS,
    redisPatienceMs: env.LLMQ_REDIS_PATIENCE_MS,
    redisRetryDelayMs: env.LLMQ_REDIS_RETRY_DELAY_MS,
  });
  // Listening before the worker starts: its first stall check may fail for good a job whose
  // workers all died, and an event sent before the watcher listens is not read again.
  const finalFailures = await watchFinalFailures({
    connection: createRedisConnection(env.REDIS_URL, { maxRetriesPerRequest: null }),
    queue: llmQueue,
    store,
    logger,
    redisPatienceMs: env.LLMQ_REDIS_PATIENCE_MS,
  });
  const worker = new Worker<LlmJobData, LlmJobReturn>(LLM_QUEUE_NAME, processor, {
    connection: createRedisConnection(env.REDIS_URL, { maxRetriesPerRequest: null }),
    prefix: QUEUE_PREFIX,
    concurrency: env.WORKER_CONCURRENCY,
    settings: { backoffStrategy: llmBackoffStrategy },
    // A lock is renewed every lockDuration / 2 while the call runs, however long it takes; a
    // worker that dies lets it lapse and another worker takes the job after stalledInterval.
    lockDuration: env.LLMQ_LOCK_DURATION_MS,
    stalledInterval: env.LLMQ_STALLED_INTERVAL_MS,
    maxStalledCount: env.LLMQ_MAX_STALLED_COUNT,
  });
  worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
  // A lock another worker now holds (this one froze or lost Redis past lockDuration): abort the
  // run's provider call through the signal BullMQ gave its processor. Its record writes are
  // already fenced by its token (see llm-job/job-run.ts).
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const jobId of jobIds) {
      logger.warn({ jobId }, 'lost the lock of a running job: aborting its run');
      worker.cancelJob(jobId, 'lock lost');
    }
  });
  const batchRunner = startProviderBatchRunner({ ...batchPath, jobs: store, queue: llmQueue, logger, metrics });
  const reconciler = startReconciler({
    redis,
    queue: llmQueue,
    store,
    logger,
    intervalMs: env.LLMQ_RECONCILE_INTERVAL_MS,
    graceMs: env.LLMQ_RECONCILE_GRACE_MS,
    redisPatienceMs: env.LLMQ_REDIS_PATIENCE_MS,
  });
  await worker.waitUntilReady();
  const watchdog = startWatchdog({
    worker,
    redis,
    logger,
    stuckAfterMs: env.LLMQ_WATCHDOG_MS,
    intervalMs: env.LLMQ_WATCHDOG_INTERVAL_MS,
  });
  const stats = startProcessStats({ logger, intervalMs: env.LLMQ_STATS_INTERVAL_MS, inFlight: () => cancels.size });
  const metricsServer =
    env.WORKER_METRICS_PORT === 'off'
      ? undefined
      : await startWorkerMetricsServer({
          registry: metrics.registry,
          port: env.WORKER_METRICS_PORT,
          host: env.WORKER_METRICS_HOST,
          ...(env.LLMQ_METRICS_TOKEN ? { token: env.LLMQ_METRICS_TOKEN } : {}),
        });
  lifecycleLogger(logger).info(
    { concurrency: env.WORKER_CONCURRENCY, providers: [...providers.keys()], metricsPort: metricsServer?.port ?? null },
    'worker ready',
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    lifecycleLogger(logger).info(
      { signal, inFlight: cancels.size, graceMs: env.LLMQ_SHUTDOWN_GRACE_MS },
      'worker draining',
    );
    watchdog.stop();
    stats.stop();
    reconciler.stop();
    await fair.stop();
    // close() stops taking jobs and waits for the ones running; past the grace period, force it.
    const drained = await Promise.race([
      worker.close().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), env.LLMQ_SHUTDOWN_GRACE_MS).unref()),
    ]);
    if (!drained) {
      logger.warn({ inFlight: cancels.size }, 'grace period over: leaving the rest to other workers');
      await worker.close(true);
    }
    await batchRunner.close();
    await finalFailures.close();
    await ends.close();
    await webhooks.close();
    await metricsServer?.close();
    circuit.stop();
    await circuit.flush();
    await redis.quit().catch(() => undefined);
    lifecycleLogger(logger).info({ drained }, 'worker stopped');
    await tracing.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
